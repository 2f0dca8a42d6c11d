using McpServerless.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace McpServerless.Tests.WebUi;

/// <summary>
/// A fresh browser context on the console. It records every Content-Security-Policy or Trusted Types violation and
/// every uncaught script error; <see cref="FinishAsync"/> saves the flow's screenshot and fails on any of them.
/// </summary>
public sealed class ConsolePage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly ConsoleHost _host;
    private readonly List<string> _problems = [];

    private ConsolePage(IBrowserContext context, IPage page, ConsoleHost host)
    {
        _context = context;
        _host = host;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && (message.Text.Contains("Content Security Policy", StringComparison.Ordinal) || message.Text.Contains("Trusted Type", StringComparison.Ordinal)))
                lock (_problems) _problems.Add(message.Text);
        };
        page.PageError += (_, error) =>
        {
            lock (_problems) _problems.Add(error);
        };
    }

    public IPage Page { get; }

    public static async Task<ConsolePage> OpenAsync(BrowserFixture browser, ConsoleHost host)
    {
        SetDefaultExpectTimeout(15_000);
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        var console = new ConsolePage(context, page, host);
        await page.GotoAsync(host.ConsoleUrl.ToString());
        return console;
    }

    public async Task SignInAsync(string token = IAdminTestHost.AdminToken)
    {
        await Page.GetByLabel("Admin token").FillAsync(token);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Servers", Exact = true })).ToBeVisibleAsync();
    }

    /// <summary>Goes to a console route (<c>servers/new</c>) the way a link would.</summary>
    public Task GoAsync(string route) => Page.GotoAsync(new Uri(_host.ConsoleUrl, "#/" + route).ToString());

    /// <summary>The row of one server in the servers table.</summary>
    public ILocator ServerRow(string name) => Page.Locator($"tr[data-server=\"{name}\"]");

    /// <summary>The field of the server form that the gateway's errors for <paramref name="key"/> are shown beside.</summary>
    public ILocator Field(string key) => Page.Locator($".field[data-field=\"{key}\"]");

    /// <summary>Saves the flow's screenshot (artifacts/screenshots/{host}-{name}.png) and fails on any recorded violation.</summary>
    public async Task FinishAsync(string name)
    {
        await ScreenshotAsync(name);
        lock (_problems) Assert.Empty(_problems);
    }

    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"{_host.Label}-{name}.png") });

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
