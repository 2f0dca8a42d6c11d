using System.Diagnostics;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol;
using Xunit.Abstractions;

namespace McpServerless.Tests.Storage;

/// <summary>
/// Several gateway processes sharing one registry: a change made through one instance's admin API is served by
/// the others, through the change feed or, when notices are lost, through the interval reconcile.
/// </summary>
public sealed class MultiInstanceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_store_and_pub_sub_keep_two_processes_in_step()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var shared = new Dictionary<string, string>
        {
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:ChangeFeed:Provider"] = "Redis",
            ["McpProxy:ReconcileInterval"] = "01:00:00", // only the feed can move B within the test
        };
        await using var a = await GatewayProcess.StartAsync(shared);
        await using var b = await GatewayProcess.StartAsync(shared);

        await AssertChangesPropagateAsync(a, b, "over the Redis feed");
    }

    [Fact]
    public async Task Lost_notices_are_made_good_by_the_interval_reconcile()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var store = new Dictionary<string, string>
        {
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:ReconcileInterval"] = "00:00:01",
        };
        // A publishes to Redis; B listens to nothing (in-process feed), as if every notice were lost.
        await using var a = await GatewayProcess.StartAsync(new Dictionary<string, string>(store) { ["McpProxy:ChangeFeed:Provider"] = "Redis" });
        await using var b = await GatewayProcess.StartAsync(store);

        await AssertChangesPropagateAsync(a, b, "by reconcile alone");
    }

    [Fact]
    public async Task Two_processes_on_azurite_tables_converge_by_reconcile()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        var shared = new Dictionary<string, string>
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = azurite.ConnectionString,
            ["McpProxy:ReconcileInterval"] = "00:00:01",
        };
        await using var a = await GatewayProcess.StartAsync(shared);
        await using var b = await GatewayProcess.StartAsync(shared);

        await AssertChangesPropagateAsync(a, b, "on Azurite by reconcile");

        // The proxy instances wrote status and tools back to the table: an admin host without connections can answer.
        await a.Admin.RegisterAsync(TestServers.Stdio("reported"));
        var reported = await Eventually.GetAsync(async () => await b.Admin.ListToolsAsync(), t => t.Any(x => x.McpName == "reported"), "reported tools");
        Assert.Contains(reported, t => t.Name == "echo");
    }

    [Fact]
    public async Task A_new_virtual_server_is_served_by_the_other_process_within_the_reconcile_interval()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var store = new Dictionary<string, string>
        {
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:ReconcileInterval"] = "00:00:01",
        };
        // B listens to nothing (in-process feed): only its reconcile can bring what A registers.
        await using var a = await GatewayProcess.StartAsync(new Dictionary<string, string>(store) { ["McpProxy:ChangeFeed:Provider"] = "Redis" });
        await using var b = await GatewayProcess.StartAsync(store);
        await a.Admin.RegisterAsync(TestServers.Stdio("member"));
        await CallThroughAsync(b, "member", "member is up", "echo", new() { ["message"] = "member is up" });

        var watch = Stopwatch.StartNew();
        await a.Admin.RegisterVirtualServerAsync(new VirtualServerDefinition
        {
            Name = "team",
            Tools = ["member:echo"],
            Overrides = new Dictionary<string, MemberOverride> { ["member:echo"] = new() { Name = "say" } },
        });
        try
        {
            await CallThroughAsync(b, "team", "across", "say", new() { ["message"] = "across" });
        }
        catch
        {
            output.WriteLine($"--- gateway A ---{Environment.NewLine}{a.Output}{Environment.NewLine}--- gateway B ---{Environment.NewLine}{b.Output}");
            throw;
        }
        output.WriteLine($"virtual server registered on A served by B by reconcile after {watch.ElapsedMilliseconds} ms");
    }

    private async Task AssertChangesPropagateAsync(GatewayProcess a, GatewayProcess b, string how)
    {
        try
        {
            await ChangesPropagateAsync(a, b, how);
        }
        catch
        {
            output.WriteLine($"--- gateway A ---{Environment.NewLine}{a.Output}{Environment.NewLine}--- gateway B ---{Environment.NewLine}{b.Output}");
            throw;
        }
    }

    private async Task ChangesPropagateAsync(GatewayProcess a, GatewayProcess b, string how)
    {
        var watch = Stopwatch.StartNew();
        await a.Admin.RegisterAsync(TestServers.Stdio("shared", d => d with { Env = new Dictionary<string, string> { ["FLAVOUR"] = "one" } }));
        Assert.Equal("one", await CallThroughAsync(b, "shared", "one"));
        output.WriteLine($"register on A callable on B {how} after {watch.ElapsedMilliseconds} ms");

        watch.Restart();
        await a.Admin.UpdateAsync("shared", TestServers.Stdio("shared", d => d with { Env = new Dictionary<string, string> { ["FLAVOUR"] = "two" } }));
        Assert.Equal("two", await CallThroughAsync(b, "shared", "two"));
        output.WriteLine($"update on A served by B {how} after {watch.ElapsedMilliseconds} ms");

        watch.Restart();
        await a.Admin.UnregisterAsync("shared");
        await Eventually.GetAsync(async () => await b.Admin.GetAsync("shared"), e => e is null, "the delete to reach B");
        await Eventually.GetAsync(async () =>
        {
            using var response = await b.Http.PostAsync("shared/stream", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }, s => s == System.Net.HttpStatusCode.NotFound, "B to close the deleted server");
        output.WriteLine($"delete on A closed on B {how} after {watch.ElapsedMilliseconds} ms");
    }

    private static Task<string> CallThroughAsync(GatewayProcess gateway, string name, string expected) =>
        CallThroughAsync(gateway, name, expected, "env", new() { ["name"] = "FLAVOUR" });

    // The bound is generous for a busy CI box; the propagation time itself is what the output reports.
    private static Task<string> CallThroughAsync(GatewayProcess gateway, string name, string expected, string tool, Dictionary<string, object?> arguments) =>
        Eventually.GetAsync(async () =>
        {
            try
            {
                await using var client = await ProxyHarness.ConnectAsync(gateway.BaseAddress, $"{name}/stream");
                return (await client.CallToolAsync(tool, arguments)).Text();
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException)
            {
                return "";
            }
        }, v => v == expected, $"{name} to answer '{expected}' on the other instance", TimeSpan.FromSeconds(60));
}
