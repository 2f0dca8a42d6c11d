using System.Diagnostics;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Proxy;

/// <summary>Live registry changes and upstream faults, with real processes.</summary>
public sealed class ProxyLifecycleTests
{
    [Fact]
    public async Task A_killed_stdio_child_fails_the_call_reconnects_and_serves_the_next_call()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("fragile", d => d with { AutoReconnect = true, ReconnectDelay = TimeSpan.FromMilliseconds(200) }));
        await gateway.WaitConnectedAsync("fragile");
        await using var client = await gateway.ConnectAsync("fragile/stream");
        var firstPid = int.Parse((await client.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture);

        var stopwatch = Stopwatch.StartNew();
        var slow = client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }).AsTask();
        await gateway.WaitInFlightAsync("fragile");
        Process.GetProcessById(firstPid).Kill();

        var failure = await Record.ExceptionAsync(async () => await slow);
        Assert.True(failure is McpException || (await slow).IsError == true, $"the in-flight call should fail, got {failure}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"the failure took {stopwatch.Elapsed}");

        await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("fragile"))!.Status,
            s => s.State == ConnectionState.Connected && s.ConnectedSince is not null, "a reconnect");
        var secondPid = (await client.CallToolAsync("whoami")).Text();
        Assert.NotEqual(firstPid.ToString(System.Globalization.CultureInfo.InvariantCulture), secondPid);
    }

    [Fact]
    public async Task Sessions_hear_tools_list_changed_when_a_reconnected_upstream_offers_other_tools()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("shifty", d => d with { AutoReconnect = true, ReconnectDelay = TimeSpan.FromMilliseconds(200) }));
        await gateway.WaitConnectedAsync("shifty");
        await using var server = await gateway.ConnectAsync("shifty/stream", protocolVersion: ProxyHarness.SessionProtocol);
        await using var aggregate = await gateway.ConnectAsync("mcp", protocolVersion: ProxyHarness.SessionProtocol);
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var onServer = server.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) => { heard.Enqueue("server"); return default; });
        await using var onAggregate = aggregate.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) => { heard.Enqueue("aggregate"); return default; });
        await server.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "ephemeral" });
        await Eventually.GetAsync(() => Task.FromResult(heard.Count), n => n >= 2, "the added tool's notifications");
        var pid = int.Parse((await server.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture);
        heard.Clear();

        Process.GetProcessById(pid).Kill(); // the restarted process has its original tools only

        await Eventually.GetAsync(() => Task.FromResult(heard.ToArray()), h => h.Contains("server") && h.Contains("aggregate"), "tools/list_changed after the reconnect");
        Assert.DoesNotContain(await server.ListToolsAsync(), t => t.Name == "ephemeral");
    }

    [Fact]
    public async Task An_http_upstream_stopped_and_restarted_is_reconnected()
    {
        var (server, port) = await TestServers.StartHttpAsync();
        await using (server)
        {
            await using var gateway = await GatewayHarness.StartAsync();
            await gateway.Admin.RegisterAsync(Definitions.Http("remote", $"http://127.0.0.1:{port}/mcp") with
            {
                AutoReconnect = true,
                ReconnectDelay = TimeSpan.FromMilliseconds(200),
                HealthCheckEnabled = true,
                HealthCheckInterval = TimeSpan.FromSeconds(1),
                Timeout = TimeSpan.FromSeconds(3),
            });
            await gateway.WaitConnectedAsync("remote");

            await server.StopAsync();
            await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("remote"))!.Status, s => s.State != ConnectionState.Connected, "the outage to be noticed");

            var (restarted, _) = await TestServers.StartHttpAsync(port);
            await using (restarted)
            {
                await gateway.WaitConnectedAsync("remote");
                await using var client = await gateway.ConnectAsync("remote/stream");
                Assert.Equal("back", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "back" })).Text());
            }
        }
    }

    [Fact]
    public async Task Health_checks_ping_the_upstream_and_a_failing_one_triggers_a_reconnect()
    {
        var (server, port) = await TestServers.StartHttpAsync();
        await using var gateway = await GatewayHarness.StartAsync();
        await using (server)
        {
            await gateway.Admin.RegisterAsync(Definitions.Http("pinged", $"http://127.0.0.1:{port}/mcp") with
            {
                HealthCheckEnabled = true,
                HealthCheckInterval = TimeSpan.FromSeconds(1),
                AutoReconnect = true,
                ReconnectDelay = TimeSpan.FromMilliseconds(200),
                Timeout = TimeSpan.FromSeconds(2),
            });
            await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("pinged"))!.Status,
                s => s.LastHealthCheck is not null && s.Healthy == true, "a successful health check");
            await server.StopAsync();
        }

        var unhealthy = await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("pinged"))!.Status,
            s => s.State != ConnectionState.Connected, "the failed ping to drop the connection");
        Assert.NotNull(unhealthy.LastError);
        await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("pinged"))!.Status,
            s => s.ReconnectAttempts > 0, "reconnect attempts to be counted");
    }

    [Fact]
    public async Task Streamable_and_legacy_sse_upstreams_both_work()
    {
        var (server, port) = await TestServers.StartHttpAsync();
        await using (server)
        {
            await using var gateway = await GatewayHarness.StartAsync();
            await gateway.Admin.RegisterAsync(Definitions.Http("modern", $"http://127.0.0.1:{port}/mcp"));
            await gateway.Admin.RegisterAsync(new McpDefinition { Name = "legacy", Transport = McpTransport.Sse, Url = $"http://127.0.0.1:{port}/mcp/sse" });
            await gateway.WaitConnectedAsync("modern");
            await gateway.WaitConnectedAsync("legacy");

            foreach (var name in new[] { "modern", "legacy" })
            {
                await using var client = await gateway.ConnectAsync($"{name}/stream");
                Assert.Equal(name, (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = name })).Text());
            }
        }
    }

    [Fact]
    public async Task An_update_swaps_the_connection_without_a_restart()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("swap", d => d with { Env = new Dictionary<string, string> { ["FLAVOUR"] = "vanilla" } }));
        await gateway.WaitConnectedAsync("swap");
        await using var client = await gateway.ConnectAsync("swap/stream");
        Assert.Equal("vanilla", (await client.CallToolAsync("env", new Dictionary<string, object?> { ["name"] = "FLAVOUR" })).Text());

        await gateway.Admin.UpdateAsync("swap", TestServers.Stdio("swap", d => d with { Env = new Dictionary<string, string> { ["FLAVOUR"] = "chocolate" } }));

        var flavour = await Eventually.GetAsync(async () =>
        {
            try
            {
                return (await client.CallToolAsync("env", new Dictionary<string, object?> { ["name"] = "FLAVOUR" })).Text();
            }
            catch (McpException)
            {
                return "";
            }
        }, f => f == "chocolate", "the new definition to serve the same session");
        Assert.Equal("chocolate", flavour);
    }

    [Fact]
    public async Task Unregistering_kills_the_child_and_ends_its_sessions()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("doomed"));
        await gateway.WaitConnectedAsync("doomed");
        await using var client = await gateway.ConnectAsync("doomed/stream", protocolVersion: ProxyHarness.SessionProtocol);
        var pid = int.Parse((await client.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture);

        await gateway.Admin.UnregisterAsync("doomed");

        await Eventually.ExitedAsync(pid, "the child process to exit");
        // The session ended with its server: its id is unknown now, as to a client that never had one.
        var gone = await Assert.ThrowsAsync<HttpRequestException>(() => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Empty(await gateway.Admin.ListToolsAsync());
    }

    [Fact]
    public async Task Stopping_the_gateway_leaves_no_child_running()
    {
        var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("child"));
        await gateway.WaitConnectedAsync("child");
        await using (var client = await gateway.ConnectAsync("child/stream"))
        {
            var pid = int.Parse((await client.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture);
            await gateway.DisposeAsync();
            await Eventually.ExitedAsync(pid, "the child to exit with the gateway");
        }
    }

    [Fact]
    public async Task Shutdown_lets_in_flight_calls_finish_then_closes_streams()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        await gateway.Admin.RegisterAsync(TestServers.Stdio("graceful"));
        await gateway.WaitConnectedAsync("graceful");
        await using var client = await gateway.ConnectAsync("graceful/stream");
        await using var sse = await gateway.ConnectAsync("graceful/sse", HttpTransportMode.Sse);

        var inFlight = client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 1500 }).AsTask();
        await gateway.WaitInFlightAsync("graceful");
        var stopping = Stopwatch.StartNew();
        await gateway.Proxy.StopAsync();

        Assert.Equal("slept 1500ms", (await inFlight).Text());
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"shutdown took {stopping.Elapsed}");
        // The legacy stream was closed by the shutdown: the client has no session to post to.
        await Assert.ThrowsAsync<HttpRequestException>(() => sse.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask());
    }
}
