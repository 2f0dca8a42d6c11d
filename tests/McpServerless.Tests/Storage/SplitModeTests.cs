using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Storage;

/// <summary>
/// The production split on one machine: the Functions admin triggers (mounted in-process, as no Functions host runs
/// here) on one port and a proxy process on another, sharing Azurite tables, with Redis pub/sub standing in for
/// Service Bus. A registration through the admin port becomes callable through the proxy port, and the proxy's
/// status and tools flow back to the admin API through the tables.
/// </summary>
public sealed class SplitModeTests
{
    [Fact]
    public async Task A_registration_on_the_functions_admin_becomes_callable_on_the_proxy()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        var shared = new Dictionary<string, string>
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = azurite.ConnectionString,
            ["McpProxy:ChangeFeed:Provider"] = "Redis",
            ["McpProxy:ChangeFeed:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:ReconcileInterval"] = "01:00:00", // the feed alone must carry the change
        };
        await using var admin = await FunctionsHarness.StartAsync(shared.ToDictionary(p => p.Key, p => (string?)p.Value));
        await using var proxy = await GatewayProcess.StartAsync(shared);

        await admin.Admin.RegisterAsync(TestServers.Stdio("split"));

        var answer = await Eventually.GetAsync(async () =>
        {
            try
            {
                await using var client = await ProxyHarness.ConnectAsync(proxy.BaseAddress, "split/stream");
                return (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "across the split" })).Text();
            }
            catch (Exception ex) when (ex is ModelContextProtocol.McpException or HttpRequestException)
            {
                return "";
            }
        }, a => a.Length > 0, "the proxy to serve the server registered on the admin app");
        Assert.Equal("across the split", answer);

        var tools = await Eventually.GetAsync(async () => await admin.Admin.ListToolsAsync(), t => t.Any(x => x.McpName == "split"), "reported tools on the admin app");
        Assert.Contains(tools, t => t.Name == "echo");
        var status = (await admin.Admin.GetAsync("split"))!.Status;
        Assert.Equal(Model.ConnectionState.Connected, status.State);
        Assert.NotNull(status.Instance);
    }
}
