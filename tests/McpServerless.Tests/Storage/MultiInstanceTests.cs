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
        await using var gateways = await GatewayPair.OnRedisAsync(bHearsTheFeed: true);

        await AssertChangesPropagateAsync(gateways, "over the Redis feed");
    }

    [Fact]
    public async Task Lost_notices_are_made_good_by_the_interval_reconcile()
    {
        await using var gateways = await GatewayPair.OnRedisAsync(bHearsTheFeed: false);

        await AssertChangesPropagateAsync(gateways, "by reconcile alone");
    }

    [Fact]
    public async Task Two_processes_on_azurite_tables_converge_by_reconcile()
    {
        await using var gateways = await GatewayPair.OnAzuriteAsync();
        var (a, b) = (gateways.A, gateways.B);

        await AssertChangesPropagateAsync(gateways, "on Azurite by reconcile");

        // The proxy instances wrote status and tools back to the table: an admin host without connections can answer.
        await a.Admin.RegisterAsync(TestServers.Stdio("reported"));
        var reported = await Eventually.GetAsync(async () => await b.Admin.ListToolsAsync(), t => t.Any(x => x.McpName == "reported"), "reported tools");
        Assert.Contains(reported, t => t.Name == "echo");
    }

    [Fact]
    public async Task A_new_virtual_server_is_served_by_the_other_process_within_the_reconcile_interval()
    {
        await using var gateways = await GatewayPair.OnRedisAsync(bHearsTheFeed: false);
        var (a, b) = (gateways.A, gateways.B);
        await a.Admin.RegisterAsync(TestServers.Stdio("member"));
        await CallThroughAsync(b, "member", "member is up", "echo", new() { ["message"] = "member is up" });

        var watch = Stopwatch.StartNew();
        await a.Admin.RegisterVirtualServerAsync(new VirtualServerDefinition
        {
            Name = "team",
            Tools = ["member:echo"],
            Overrides = new Dictionary<string, MemberOverride> { ["member:echo"] = new() { Name = "say" } },
        });
        await WithOutputOnFailureAsync(gateways, () => CallThroughAsync(b, "team", "across", "say", new() { ["message"] = "across" }));
        output.WriteLine($"virtual server registered on A served by B by reconcile after {watch.ElapsedMilliseconds} ms");
    }

    private Task AssertChangesPropagateAsync(GatewayPair gateways, string how) =>
        WithOutputOnFailureAsync(gateways, () => ChangesPropagateAsync(gateways.A, gateways.B, how));

    private async Task WithOutputOnFailureAsync(GatewayPair gateways, Func<Task> check)
    {
        try
        {
            await check();
        }
        catch
        {
            output.WriteLine(gateways.Output);
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

    /// <summary>Gateway processes A and B sharing one registry, with the server that holds it; disposed B first, the registry last.</summary>
    private sealed class GatewayPair : IAsyncDisposable
    {
        private readonly IAsyncDisposable[] _owned;

        private GatewayPair(IAsyncDisposable[] owned, GatewayProcess a, GatewayProcess b) => (_owned, A, B) = (owned, a, b);

        public GatewayProcess A { get; }

        public GatewayProcess B { get; }

        /// <summary>Both processes' output, for a failed test.</summary>
        public string Output => $"--- gateway A ---{Environment.NewLine}{A.Output}{Environment.NewLine}--- gateway B ---{Environment.NewLine}{B.Output}";

        /// <summary>
        /// On one Redis store, A publishing every change on the Redis feed. B either listens to that feed and reconciles
        /// only hourly, so only the feed can move it within a test, or listens to nothing (an in-process feed), as if
        /// every notice were lost, and reconciles every second.
        /// </summary>
        public static async Task<GatewayPair> OnRedisAsync(bool bHearsTheFeed)
        {
            var redis = await RedisServer.StartNewAsync();
            var store = new Dictionary<string, string>
            {
                ["McpProxy:Storage:Provider"] = "Redis",
                ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
                ["McpProxy:ReconcileInterval"] = bHearsTheFeed ? "01:00:00" : "00:00:01",
            };
            var publishing = new Dictionary<string, string>(store) { ["McpProxy:ChangeFeed:Provider"] = "Redis" };
            return await StartAsync(redis, publishing, bHearsTheFeed ? publishing : store);
        }

        /// <summary>On one Azurite table, which has no feed: both reconcile every second.</summary>
        public static async Task<GatewayPair> OnAzuriteAsync()
        {
            var azurite = await AzuriteServer.StartNewAsync();
            var shared = new Dictionary<string, string>
            {
                ["McpProxy:Storage:Provider"] = "Table",
                ["McpProxy:Storage:Table:ConnectionString"] = azurite.ConnectionString,
                ["McpProxy:ReconcileInterval"] = "00:00:01",
            };
            return await StartAsync(azurite, shared, shared);
        }

        private static async Task<GatewayPair> StartAsync(IAsyncDisposable registry, Dictionary<string, string> settingsA, Dictionary<string, string> settingsB)
        {
            var started = new Stack<IAsyncDisposable>([registry]);
            try
            {
                var a = await GatewayProcess.StartAsync(settingsA);
                started.Push(a);
                var b = await GatewayProcess.StartAsync(settingsB);
                started.Push(b);
                return new GatewayPair([.. started], a, b);
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
}
