using System.Globalization;
using System.Text.Json;
using McpServerless.Proxy.Downstream;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace McpServerless.Tests.Sessions;

/// <summary>Idle sessions are reaped on the gateway's clock, only live sessions take slots, and no one caller takes them all.</summary>
public sealed class SessionLimitTests
{
    [Fact]
    public async Task A_thousand_abandoned_sessions_stop_blocking_new_clients_after_the_idle_timeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.MaxSessionsPerCaller = 1000,
            configureBuilder: b => b.Services.AddSingleton<TimeProvider>(clock));
        await gateway.Admin.RegisterAsync(TestServers.Stdio("s"));
        await gateway.WaitConnectedAsync("s");

        await Parallel.ForAsync(0, 1000, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (_, _) => await RawMcp.InitializeAsync(gateway.Http, "s/stream"));
        using (var refused = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize)))
        {
            Assert.Equal(503, (int)refused.StatusCode);
            Assert.Contains("MaxSessionsPerServer", await refused.Content.ReadAsStringAsync());
        }

        clock.Advance(TimeSpan.FromMinutes(9));
        using (var stillFull = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize)))
            Assert.Equal(503, (int)stillFull.StatusCode);

        clock.Advance(TimeSpan.FromMinutes(2));
        await Eventually.GetAsync(() => Task.FromResult(Sessions(gateway).CountOf("s")), n => n == 0, "the idle sessions to be reaped");
        await using var client = await gateway.ConnectAsync("s/stream", protocolVersion: ProxyHarness.SessionProtocol);
        Assert.Equal("in", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "in" })).Text());
    }

    [Fact]
    public async Task Reaping_an_isolated_session_ends_its_upstream_process()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new LogCapture(); // at the levels a deployment logs
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.SessionIdleTimeout = TimeSpan.FromMinutes(1),
            configureBuilder: b =>
            {
                b.Services.AddSingleton<TimeProvider>(clock);
                b.Logging.AddProvider(logs);
            });
        await gateway.Admin.RegisterAsync(TestServers.Stdio("iso", d => d with { IsolateSessions = true }));
        await gateway.WaitConnectedAsync("iso");

        var pids = new List<int>();
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var id = await RawMcp.InitializeAsync(gateway.Http, "iso/stream");
            ids.Add(id);
            var (status, body) = await RawMcp.SendAsync(gateway.Http, "iso/stream", id, body: """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami"}}""");
            Assert.Equal(200, status);
            pids.Add(PidFrom(body));
        }
        Assert.All(pids, pid => Assert.True(Eventually.IsRunning(pid)));

        clock.Advance(TimeSpan.FromMinutes(2));

        foreach (var pid in pids) await Eventually.ExitedAsync(pid, "the reaped session's upstream process to exit");
        await Eventually.GetAsync(() => Task.FromResult(Sessions(gateway).CountOf("iso")), n => n == 0, "the reaped sessions to be gone");
        Assert.DoesNotContain(logs.Lines, line => ids.Any(id => line.Contains(id, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task One_caller_cannot_take_every_slot()
    {
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.GlobalAuthTokens = ["token-1", "token-2"];
            o.TrustedProxies = ["127.0.0.1"];
            o.Limits.MaxSessionsPerCaller = 2;
        });
        await gateway.Admin.RegisterAsync(TestServers.Stdio("s"));
        await gateway.WaitConnectedAsync("s");

        await RawMcp.InitializeAsync(gateway.Http, "s/stream", "token-1");
        await RawMcp.InitializeAsync(gateway.Http, "s/stream", "token-1");
        using (var refused = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize, token: "token-1")))
        {
            Assert.Equal(503, (int)refused.StatusCode);
            Assert.Contains("MaxSessionsPerCaller", await refused.Content.ReadAsStringAsync());
        }
        await RawMcp.InitializeAsync(gateway.Http, "s/stream", "token-2");
        // Callers without a token are told apart by address.
        await RawMcp.InitializeAsync(gateway.Http, "mcp", "token-1", forwardedFor: "10.0.0.1");
        await RawMcp.InitializeAsync(gateway.Http, "mcp", "token-2", forwardedFor: "10.0.0.1");
        await RawMcp.InitializeAsync(gateway.Http, "mcp", "token-2", forwardedFor: "10.0.0.1");
        using (var refused = await gateway.Http.SendAsync(RawMcp.Post("mcp", RawMcp.Initialize, token: "token-2", forwardedFor: "10.0.0.2")))
            Assert.Equal(503, (int)refused.StatusCode);
    }

    [Fact]
    public async Task Unauthenticated_callers_are_counted_by_address()
    {
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.TrustedProxies = ["127.0.0.1"];
            o.Limits.MaxSessionsPerCaller = 1;
        });
        await gateway.Admin.RegisterAsync(TestServers.Stdio("s"));
        await gateway.WaitConnectedAsync("s");

        await RawMcp.InitializeAsync(gateway.Http, "s/stream", forwardedFor: "10.0.0.1");
        using (var refused = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize, forwardedFor: "10.0.0.1")))
            Assert.Equal(503, (int)refused.StatusCode);
        await RawMcp.InitializeAsync(gateway.Http, "s/stream", forwardedFor: "10.0.0.2");
    }

    [Fact]
    public async Task Messages_on_open_sessions_never_count_as_new_sessions()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.MaxSessionsPerServer = 1);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("s"));
        await gateway.WaitConnectedAsync("s");

        using (var legacy = await RawMcp.LegacySession.OpenAsync(gateway.Http, "s/sse"))
        {
            using var message = await gateway.Http.SendAsync(RawMcp.Post(legacy.MessagePath, RawMcp.Initialize));
            Assert.Equal(202, (int)message.StatusCode);
            using var full = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize));
            Assert.Equal(503, (int)full.StatusCode);
        }

        var id = await Eventually.GetAsync(async () =>
        {
            using var response = await gateway.Http.SendAsync(RawMcp.Post("s/stream", RawMcp.Initialize));
            return response.IsSuccessStatusCode ? response.Headers.GetValues("Mcp-Session-Id").Single() : null;
        }, id => id is not null, "the closed legacy session's slot to be free");
        Assert.Equal(200, (await RawMcp.SendAsync(gateway.Http, "s/stream", id!)).Status);
    }

    private static DownstreamSessions Sessions(GatewayHarness gateway) => gateway.Proxy.Services.GetRequiredService<DownstreamSessions>();

    // The POST answers as an SSE stream: one "data:" line with the JSON-RPC response.
    private static int PidFrom(string body)
    {
        var data = body.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        using var json = JsonDocument.Parse(data);
        var text = json.RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        return int.Parse(text, CultureInfo.InvariantCulture);
    }
}
