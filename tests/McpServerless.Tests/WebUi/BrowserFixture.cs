using McpServerless.Tests.Infrastructure;
using Microsoft.Playwright;

namespace McpServerless.Tests.WebUi;

/// <summary>
/// One headless Debian Chromium for every browser test, driven by Playwright. Playwright's own browser download
/// cannot run here, so it launches the system browser (<c>apt-get install chromium</c>, done by scripts/test.sh);
/// the flags keep it from reaching for the network at start.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static string ChromiumPath { get; } = Environment.GetEnvironmentVariable("MCP_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new FileNotFoundException($"Chromium is missing at {ChromiumPath}; run ./scripts/test.sh (it installs Debian's chromium).");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>Where flows save their screenshots: artifacts/screenshots at the repository root (or MCP_TEST_ARTIFACTS).</summary>
    public static string ScreenshotDirectory { get; } = FindScreenshotDirectory();

    private static string FindScreenshotDirectory()
    {
        var root = Environment.GetEnvironmentVariable("MCP_TEST_ARTIFACTS");
        if (string.IsNullOrEmpty(root))
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "McpServerless.sln"))) dir = dir.Parent;
            root = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "artifacts");
        }
        var path = Path.Combine(root, "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>
/// The browser flows share one Chromium and run on their own, after the parallel tests: a browser, a gateway and
/// node servers at once would otherwise eat the time budgets of the timing-sensitive tests beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
