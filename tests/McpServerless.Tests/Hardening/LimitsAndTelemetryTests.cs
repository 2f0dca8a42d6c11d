using System.Net;
using System.Net.Http.Headers;
using System.Text;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;

namespace McpServerless.Tests.Hardening;

public sealed class LimitsAndTelemetryTests
{
    [Fact]
    public async Task Prometheus_scrape_needs_admin_access_and_shows_upstream_calls()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("counted"));
        await gateway.WaitConnectedAsync("counted");
        await using (var client = await gateway.ConnectAsync("counted/stream"))
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" });

        using (var anonymous = await gateway.Http.GetAsync("metrics"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var text = await Eventually.GetAsync(async () =>
        {
            using var response = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "metrics"));
            return await response.Content.ReadAsStringAsync();
        }, t => t.Contains("mcp_client_operation_duration_seconds_count", StringComparison.Ordinal), "the upstream call histogram to be scraped");
        Assert.Contains("mcp_gateway_server=\"counted\"", text);
        Assert.Contains("gen_ai_tool_name=\"echo\"", text);
        Assert.Contains("mcp_gateway_upstream_connected", text);
    }

    [Fact]
    public async Task Admin_metrics_tally_relayed_calls_per_server_from_both_endpoint_kinds()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("tallied"));
        await gateway.WaitConnectedAsync("tallied");
        await using (var client = await gateway.ConnectAsync("tallied/stream"))
        {
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" });
            await client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 200 });
            await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("no-such-tool").AsTask());
        }
        await using (var aggregated = await gateway.ConnectAsync("mcp"))
            await aggregated.CallToolAsync("tallied__echo", new Dictionary<string, object?> { ["message"] = "y" });

        var upstream = (await gateway.Admin.GetMetricsAsync()).Upstreams["tallied"];
        Assert.Equal(4, upstream.Calls);
        Assert.Equal(1, upstream.Errors); // the upstream's JSON-RPC error; the others succeeded
        Assert.InRange(upstream.DurationSeconds, 0.2, 30);

        await gateway.Admin.UnregisterAsync("tallied");
        Assert.False((await gateway.Admin.GetMetricsAsync()).Upstreams.ContainsKey("tallied"));
    }

    [Fact]
    public async Task The_admin_api_is_rate_limited_per_client()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.AdminRequestsPerMinute = 3);
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "admin/mcps"));
            codes.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], codes);
        using var health = await gateway.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task An_unauthenticated_flood_does_not_lock_the_admin_out()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.AdminRequestsPerMinute = 3);
        var flood = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "admin/mcps");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", $"guess-{i}");
            using var response = await gateway.Http.SendAsync(request);
            flood.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], flood);

        using var admin = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "admin/mcps"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Sessions_beyond_the_limit_are_refused_with_503()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.MaxSessionsPerServer = 2);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("small"));
        await gateway.WaitConnectedAsync("small");
        await using var first = await gateway.ConnectAsync("small/stream", protocolVersion: ProxyHarness.SessionProtocol);
        await using var second = await gateway.ConnectAsync("small/stream", protocolVersion: ProxyHarness.SessionProtocol);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => gateway.ConnectAsync("small/stream", protocolVersion: ProxyHarness.SessionProtocol));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("still", (await first.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still" })).Text());
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_on_proxy_endpoints()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.MaxRequestBodyBytes = 64 * 1024);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("limited"));
        await gateway.WaitConnectedAsync("limited");
        var body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":" """.TrimEnd() + new string('a', 100_000) + "\"}}}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "limited/stream") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_silent_upstream_times_out_frees_the_caller_and_the_slot()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("slow", d => d with { Timeout = TimeSpan.FromSeconds(5) }));
        await gateway.WaitConnectedAsync("slow");
        await using var client = await gateway.ConnectAsync("slow/stream");

        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }).AsTask());
        Assert.Contains("did not answer", ex.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));

        Assert.Equal(0, gateway.Upstream("slow").InFlight);
        Assert.Equal("next", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "next" })).Text());
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_call_leaves_no_upstream_request_behind()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("abandoned"));
        await gateway.WaitConnectedAsync("abandoned");

        var client = await gateway.ConnectAsync("abandoned/stream");
        var call = client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }).AsTask();
        await gateway.WaitInFlightAsync("abandoned");

        await client.DisposeAsync();
        await gateway.WaitInFlightAsync("abandoned", 0);
        // The client's own pending call ends with its disposal.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }
}
