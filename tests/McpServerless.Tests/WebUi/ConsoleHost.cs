using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Storage;

namespace McpServerless.Tests.WebUi;

/// <summary>A host serving the console, with what a flow needs to know about it.</summary>
public sealed class ConsoleHost : IAsyncDisposable
{
    private readonly IAsyncDisposable[] _owned;

    private ConsoleHost(string label, IAdminTestHost admin, bool triesTools, params IAsyncDisposable[] owned)
    {
        Label = label;
        Admin = admin;
        TriesTools = triesTools;
        _owned = owned;
    }

    /// <summary>Names the host in screenshot file names.</summary>
    public string Label { get; }

    /// <summary>The admin API the console talks to, for arranging and checking behind the browser's back.</summary>
    public IAdminTestHost Admin { get; }

    /// <summary>The console's address: beside the admin API on each host (/ui/, /gateway/ui/).</summary>
    public Uri ConsoleUrl => new(Admin.Http.BaseAddress!, "ui/");

    /// <summary>Whether the proxy endpoints share the console's origin, so the try-it panel can call tools.</summary>
    public bool TriesTools { get; }

    /// <summary>The one-process gateway: admin API, proxy and console together.</summary>
    public static async Task<ConsoleHost> GatewayAsync(Action<McpProxyOptions>? configure = null)
    {
        var gateway = await GatewayHarness.StartAsync(configure);
        return new ConsoleHost("gateway", gateway, triesTools: true, gateway);
    }

    /// <summary>
    /// The production split: the Functions triggers (mounted in-process) serve the admin API and the console, and a
    /// proxy process sharing a Redis store and change feed holds the connections and reports their state.
    /// </summary>
    public static async Task<ConsoleHost> FunctionsAsync()
    {
        var started = new Stack<IAsyncDisposable>();
        try
        {
            var redis = await RedisServer.StartNewAsync();
            started.Push(redis);
            var shared = new Dictionary<string, string>
            {
                ["McpProxy:Storage:Provider"] = "Redis",
                ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
                ["McpProxy:ChangeFeed:Provider"] = "Redis",
            };
            started.Push(await GatewayProcess.StartAsync(shared));
            var functions = await FunctionsHarness.StartAsync(shared.ToDictionary(p => p.Key, p => (string?)p.Value));
            started.Push(functions);
            return new ConsoleHost("functions", functions, triesTools: false, [.. started]);
        }
        catch
        {
            while (started.TryPop(out var owned)) await owned.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned) await owned.DisposeAsync();
    }
}
