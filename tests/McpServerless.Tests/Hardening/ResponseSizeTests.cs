using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Xunit.Abstractions;

namespace McpServerless.Tests.Hardening;

/// <summary>An upstream message over <c>Limits:MaxResponseBytes</c> ends its call with a JSON-RPC error; the connection and the gateway's memory recover.</summary>
public sealed class ResponseSizeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("stdio")]
    [InlineData("streamable-http")]
    public async Task An_over_limit_result_is_a_json_rpc_error_naming_the_limit_and_the_next_call_works(string transport)
    {
        await using var upstream = transport == "stdio" ? null : await HttpUpstream.StartAsync();
        await using var gateway = await GatewayHarness.StartAsync(o => o.Limits.MaxResponseBytes = 1024 * 1024);
        await gateway.Admin.RegisterAsync(upstream?.Definition("big", transport) ?? TestServers.Stdio("big"));
        await gateway.Admin.RegisterAsync((upstream?.Definition("roomy", transport) ?? TestServers.Stdio("roomy")) with { MaxResponseBytes = 4 * 1024 * 1024 });
        await gateway.WaitConnectedAsync("big");
        await gateway.WaitConnectedAsync("roomy");
        await using var client = await gateway.ConnectAsync("big/stream");

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => CallBigAsync(client, 2048));
        Assert.Contains("MaxResponseBytes", error.Message);

        Assert.Equal("still here", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" })).Text());
        Assert.Equal(512 * 1024, (await CallBigAsync(client, 512)).Length);
        await using var roomy = await gateway.ConnectAsync("roomy/stream");
        Assert.Equal(2048 * 1024, (await CallBigAsync(roomy, 2048)).Length);
    }

    [Theory]
    [InlineData("stdio")]
    [InlineData("streamable-http")]
    public async Task Memory_returns_to_baseline_after_a_burst_of_over_limit_results(string transport)
    {
        await using var upstream = transport == "stdio" ? null : await HttpUpstream.StartAsync();
        var definition = upstream?.Definition("big", transport) ?? TestServers.Stdio("big");
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>());
        await gateway.Admin.RegisterAsync(definition with { Timeout = TimeSpan.FromSeconds(60) });
        await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("big"))?.Status.State, s => s == Model.ConnectionState.Connected, "big to connect");
        await using var client = await ProxyHarness.ConnectAsync(gateway.BaseAddress, "big/stream");
        for (var i = 0; i < 5; i++) await CallBigAsync(client, 1024); // warm up on results under the 16 MB default
        var baseline = gateway.ResidentBytes();

        for (var i = 0; i < 4; i++)
            Assert.Contains("MaxResponseBytes", (await Assert.ThrowsAsync<McpProtocolException>(() => CallBigAsync(client, 50 * 1024))).Message);
        var peakAfter = gateway.ResidentBytes();
        // The gateway's GC gives memory back on its own schedule: poll for a while rather than sleep a fixed time.
        var settled = await Eventually.GetAsync(async () =>
        {
            await CallBigAsync(client, 1);
            return gateway.ResidentBytes();
        }, rss => rss < baseline + 150 * 1024 * 1024, "the gateway's memory to return to baseline", TimeSpan.FromSeconds(120));

        output.WriteLine($"{transport}: RSS baseline {baseline / 1048576} MB, right after four 50 MB results {peakAfter / 1048576} MB, settled {settled / 1048576} MB");
        Assert.Equal("ok", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "ok" })).Text());
    }

    private static async Task<string> CallBigAsync(McpClient client, int kilobytes) =>
        (await client.CallToolAsync("big", new Dictionary<string, object?> { ["kilobytes"] = kilobytes })).Text();

    /// <summary>The test server over HTTP, for the streamable-http and legacy sse transports.</summary>
    private sealed class HttpUpstream(ExternalProcess process, int port) : IAsyncDisposable
    {
        public static async Task<HttpUpstream> StartAsync()
        {
            var (process, port) = await TestServers.StartHttpAsync();
            return new(process, port);
        }

        public Model.McpDefinition Definition(string name, string transport) => new()
        {
            Name = name,
            Transport = transport == "sse" ? Model.McpTransport.Sse : Model.McpTransport.StreamableHttp,
            Url = transport == "sse" ? $"http://127.0.0.1:{port}/mcp/sse" : $"http://127.0.0.1:{port}/mcp",
            Timeout = TimeSpan.FromSeconds(20),
            AutoReconnect = true,
        };

        public ValueTask DisposeAsync() => process.DisposeAsync();
    }
}
