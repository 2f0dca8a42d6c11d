using System.Diagnostics;
using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Telemetry;

/// <summary>
/// With no exporter configured nothing records, and the gateway passes the caller's trace context on unchanged (as
/// OpenTelemetry does without an SDK): the upstream's span becomes the caller's span's child, over stdio as over HTTP.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class TracePropagationTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;
    private ExternalProcess _upstream = null!;

    public async Task InitializeAsync()
    {
        (_upstream, var port) = await TestServers.StartHttpAsync();
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("piped"));
        await _gateway.Admin.RegisterAsync(new() { Name = "remote", Transport = McpServerless.Model.McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{port}/mcp" });
        await _gateway.WaitConnectedAsync("piped");
        await _gateway.WaitConnectedAsync("remote");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("piped/stream", "echo_meta")]
    [InlineData("remote/stream", "echo_meta")]
    [InlineData("mcp", "piped__echo_meta")]
    public async Task The_callers_meta_context_reaches_the_upstream_as_it_was_sent(string path, string tool)
    {
        await using var client = await _gateway.ConnectAsync(path, protocolVersion: ProxyHarness.SessionProtocol);
        var traceparent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

        var meta = await EchoMetaAsync(client, tool, new JsonObject { ["traceparent"] = traceparent, ["tracestate"] = "caller=1", ["baggage"] = "tenant=blue" });

        Assert.Equal(traceparent, meta["traceparent"]?.GetValue<string>());
        Assert.Equal("caller=1", meta["tracestate"]?.GetValue<string>());
        Assert.Equal("tenant=blue", meta["baggage"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("piped/stream", "echo_meta", "01")]
    [InlineData("remote/stream", "echo_meta", "00")]
    [InlineData("mcp", "remote__echo_meta", "01")]
    public async Task The_callers_http_traceparent_reaches_the_upstream_in_meta(string path, string tool, string flags)
    {
        var traceparent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-{flags}";
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(_gateway.Proxy.BaseAddress, path),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["traceparent"] = traceparent, ["tracestate"] = "edge=7" },
        }), new McpClientOptions { ProtocolVersion = ProxyHarness.SessionProtocol });

        var meta = await EchoMetaAsync(client, tool, meta: null);

        Assert.Equal(traceparent, meta["traceparent"]?.GetValue<string>());
        Assert.Equal("edge=7", meta["tracestate"]?.GetValue<string>());
    }

    [Fact]
    public async Task A_caller_with_no_context_sends_none_upstream()
    {
        await using var client = await _gateway.ConnectAsync("piped/stream", protocolVersion: ProxyHarness.SessionProtocol);

        var meta = await EchoMetaAsync(client, "echo_meta", meta: null);

        Assert.Null(meta["traceparent"]);
    }

    private static async Task<JsonNode> EchoMetaAsync(McpClient client, string tool, JsonObject? meta) =>
        JsonNode.Parse((await client.CallToolAsync(tool, options: new RequestOptions { Meta = meta })).Text())!;
}
