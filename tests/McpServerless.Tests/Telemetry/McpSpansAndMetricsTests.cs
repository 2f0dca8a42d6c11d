using System.Diagnostics;
using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Telemetry;

/// <summary>
/// Spans and metrics by the OpenTelemetry MCP semantic conventions, read from OpenTelemetry's in-memory exporters, and
/// trace context as a recording upstream (the test server's <c>echo_meta</c> tool) receives it in <c>params._meta</c>.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class McpSpansAndMetricsTests
{
    [Fact]
    public async Task A_tool_call_on_a_server_route_continues_the_callers_meta_context_through_a_server_and_a_client_span()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await capture.StartGatewayAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("traced"));
        await gateway.WaitConnectedAsync("traced");
        await using var client = await gateway.ConnectAsync("traced/stream", protocolVersion: ProxyHarness.SessionProtocol);
        var (trace, callerSpan) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());

        var result = await client.CallToolAsync("echo_meta", options: new RequestOptions
        {
            Meta = new JsonObject { ["traceparent"] = $"00-{trace}-{callerSpan}-01", ["tracestate"] = "caller=1", ["baggage"] = "tenant=blue" },
        });

        var spans = await capture.SpansAsync(trace, s => s.Length == 2);
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        var relayed = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
        Assert.Equal("tools/call echo_meta", server.DisplayName);
        Assert.Equal(callerSpan, server.ParentSpanId);
        Assert.Single(server.Links); // the HTTP request's own context, linked
        Assert.Equal("tools/call echo_meta", relayed.DisplayName);
        Assert.Equal(server.SpanId, relayed.ParentSpanId);

        Assert.Equal("tools/call", server.GetTagItem("mcp.method.name"));
        Assert.Equal("echo_meta", server.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("execute_tool", server.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("tcp", server.GetTagItem("network.transport"));
        Assert.Equal("server", server.GetTagItem("mcp_gateway.route"));
        Assert.Equal("traced", server.GetTagItem("mcp_gateway.server"));
        Assert.Equal(ProxyHarness.SessionProtocol, server.GetTagItem("mcp.protocol.version"));
        Assert.NotNull(server.GetTagItem("jsonrpc.request.id"));
        var sessionTag = Assert.IsType<string>(server.GetTagItem("mcp.session.id"));
        Assert.Matches("^[0-9a-f]{8}$", sessionTag);
        Assert.DoesNotContain(sessionTag, client.SessionId!);
        Assert.Null(server.GetTagItem("error.type"));

        Assert.Equal("pipe", relayed.GetTagItem("network.transport"));
        Assert.Equal("traced", relayed.GetTagItem("mcp_gateway.server"));
        Assert.Equal("echo_meta", relayed.GetTagItem("gen_ai.tool.name"));
        Assert.NotNull(relayed.GetTagItem("jsonrpc.request.id"));
        Assert.Null(relayed.GetTagItem("server.address"));

        // The upstream continues the gateway's CLIENT span, not the caller's: the caller's traceparent was replaced.
        var meta = JsonNode.Parse(result.Text())!;
        Assert.Equal($"00-{trace}-{relayed.SpanId}-01", meta["traceparent"]!.GetValue<string>());
        Assert.Equal("caller=1", meta["tracestate"]!.GetValue<string>());
        Assert.Equal("tenant=blue", meta["baggage"]!.GetValue<string>().Replace(" ", "", StringComparison.Ordinal)); // W3C baggage allows spaces around '='

        var serverPoint = Assert.Single(capture.Points("mcp.server.operation.duration", new("mcp_gateway.server", "traced")),
            p => TelemetryCapture.Tags(p)["mcp.method.name"] as string == "tools/call");
        Assert.Equal(1, serverPoint.GetHistogramCount());
        Assert.Equal("echo_meta", TelemetryCapture.Tags(serverPoint)["gen_ai.tool.name"]);
        var clientPoint = Assert.Single(capture.Points("mcp.client.operation.duration", new("mcp_gateway.server", "traced")));
        Assert.Equal(1, clientPoint.GetHistogramCount());
        Assert.Equal("pipe", TelemetryCapture.Tags(clientPoint)["network.transport"]);
    }

    [Fact]
    public async Task A_listen_stream_is_one_server_operation_and_one_the_gateway_ends_says_why()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await capture.StartGatewayAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("listened"));
        await gateway.WaitConnectedAsync("listened");
        await using var client = await gateway.ConnectAsync("listened/stream");
        var acknowledged = new TaskCompletionSource();
        await using var onAck = client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (_, _) =>
        {
            acknowledged.TrySetResult();
            return ValueTask.CompletedTask;
        });
        var trace = ActivityTraceId.CreateRandom();

        var listening = client.SendRequestAsync(new JsonRpcRequest
        {
            Method = RequestMethods.SubscriptionsListen,
            Params = new JsonObject
            {
                ["notifications"] = new JsonObject { ["toolsListChanged"] = true },
                ["_meta"] = new JsonObject { ["traceparent"] = $"00-{trace}-{ActivitySpanId.CreateRandom()}-01" },
            },
        });
        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await gateway.Admin.UnregisterAsync("listened");
        await Assert.ThrowsAsync<McpProtocolException>(() => listening);

        var span = Assert.Single(await capture.SpansAsync(trace, s => s.Length == 1));
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal(RequestMethods.SubscriptionsListen, span.GetTagItem("mcp.method.name"));
        Assert.Equal("not_connected", span.GetTagItem("error.type"));
        Assert.Single(capture.Points("mcp.server.operation.duration", new("mcp_gateway.server", "listened")),
            p => TelemetryCapture.Tags(p)["mcp.method.name"] as string == RequestMethods.SubscriptionsListen);
    }

    [Fact]
    public async Task A_tool_call_on_the_aggregate_continues_the_callers_http_traceparent_to_an_http_upstream()
    {
        var capture = new TelemetryCapture();
        var (upstream, port) = await TestServers.StartHttpAsync();
        await using var _ = upstream;
        await using var gateway = await capture.StartGatewayAsync();
        await gateway.Admin.RegisterAsync(new() { Name = "remote", Transport = McpServerless.Model.McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{port}/mcp" });
        await gateway.WaitConnectedAsync("remote");
        var (trace, callerSpan) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(gateway.Proxy.BaseAddress, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["traceparent"] = $"00-{trace}-{callerSpan}-01" },
        }), new McpClientOptions { ProtocolVersion = ProxyHarness.SessionProtocol });

        var result = await client.CallToolAsync("remote__echo_meta");

        // The SERVER span and the HTTP request's span end after the answer is sent, so they are waited for too.
        static bool IsRequestOfCall(Activity s, Activity[] all) => s.Kind == ActivityKind.Server && s.Source.Name == "Microsoft.AspNetCore"
            && all.Any(x => x.ParentSpanId == s.SpanId && x.DisplayName == "tools/call remote__echo_meta");
        var spans = await capture.SpansAsync(trace, s => s.Any(x => x.Kind == ActivityKind.Client && x.DisplayName == "tools/call echo_meta")
            && s.Any(x => IsRequestOfCall(x, s)));
        var request = Assert.Single(spans, s => IsRequestOfCall(s, spans) && s.ParentSpanId == callerSpan);
        var server = Assert.Single(spans, s => s.DisplayName == "tools/call remote__echo_meta");
        var relayed = Assert.Single(spans, s => s.DisplayName == "tools/call echo_meta");
        Assert.Equal(request.SpanId, server.ParentSpanId); // no _meta context: the HTTP request's is the parent
        Assert.Equal(server.SpanId, relayed.ParentSpanId);
        Assert.Equal("aggregated", server.GetTagItem("mcp_gateway.route"));
        Assert.Equal("remote", server.GetTagItem("mcp_gateway.server"));
        Assert.Equal("remote__echo_meta", server.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("tcp", relayed.GetTagItem("network.transport"));
        Assert.Equal("http", relayed.GetTagItem("network.protocol.name"));
        Assert.Equal("127.0.0.1", relayed.GetTagItem("server.address"));
        Assert.Equal(port, relayed.GetTagItem("server.port"));
        Assert.Matches("^[0-9a-f]{8}$", Assert.IsType<string>(relayed.GetTagItem("mcp.session.id")));

        Assert.Equal($"00-{trace}-{relayed.SpanId}-01", JsonNode.Parse(result.Text())!["traceparent"]!.GetValue<string>());
        var clientPoint = Assert.Single(capture.Points("mcp.client.operation.duration", new("mcp_gateway.server", "remote")),
            p => TelemetryCapture.Tags(p)["mcp.method.name"] as string == "tools/call");
        Assert.Equal("127.0.0.1", TelemetryCapture.Tags(clientPoint)["server.address"]);
        Assert.Single(capture.Points("mcp.server.operation.duration", new("mcp_gateway.route", "aggregated")),
            p => TelemetryCapture.Tags(p).GetValueOrDefault("gen_ai.tool.name") as string == "remote__echo_meta");
    }

    [Fact]
    public async Task A_tool_error_and_a_timeout_are_the_error_types_of_both_spans_and_both_durations()
    {
        var capture = new TelemetryCapture();
        var (upstream, port) = await TestServers.StartHttpAsync();
        await using var _ = upstream;
        await using var gateway = await capture.StartGatewayAsync();
        await gateway.Admin.RegisterAsync(new() { Name = "flaky", Transport = McpServerless.Model.McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{port}/mcp", Timeout = TimeSpan.FromSeconds(5) });
        await gateway.WaitConnectedAsync("flaky");
        await using var client = await gateway.ConnectAsync("flaky/stream", protocolVersion: ProxyHarness.SessionProtocol);

        var failed = await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "broken" });
        Assert.True(failed.IsError);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 30_000 }).AsTask());

        var spans = await capture.SpansAsync(s => Equals(s.GetTagItem("mcp_gateway.server"), "flaky") && s.DisplayName.StartsWith("tools/call", StringComparison.Ordinal),
            s => s.Length == 4);
        foreach (var span in spans.Where(s => s.DisplayName == "tools/call fail"))
        {
            Assert.Equal("tool_error", span.GetTagItem("error.type"));
            Assert.Equal(ActivityStatusCode.Error, span.Status);
        }
        var timedOut = spans.Where(s => s.DisplayName == "tools/call sleep").ToDictionary(s => s.Kind);
        Assert.Equal("timeout", timedOut[ActivityKind.Client].GetTagItem("error.type"));
        Assert.Equal("timeout", timedOut[ActivityKind.Server].GetTagItem("error.type"));
        Assert.Equal("-32603", timedOut[ActivityKind.Server].GetTagItem("rpc.response.status_code"));
        Assert.Contains("did not answer", timedOut[ActivityKind.Server].StatusDescription);

        foreach (var metric in new[] { "mcp.server.operation.duration", "mcp.client.operation.duration" })
        {
            var errors = capture.Points(metric, new("mcp_gateway.server", "flaky"))
                .Select(p => TelemetryCapture.Tags(p)).Where(t => t.ContainsKey("gen_ai.tool.name"))
                .ToDictionary(t => (string)t["gen_ai.tool.name"]!, t => t.GetValueOrDefault("error.type"));
            Assert.Equal("tool_error", errors["fail"]);
            Assert.Equal("timeout", errors["sleep"]);
        }

        // The console's traffic charts read the same measurements: two calls, the timeout failed, the tool error worked.
        var tally = (await gateway.Admin.GetMetricsAsync()).Upstreams["flaky"];
        Assert.Equal((2, 1), (tally.Calls, tally.Errors));
        Assert.InRange(tally.DurationSeconds, 4.9, 60);
    }

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on; clients of earlier revisions still answer it.
    [Fact]
    public async Task A_sampling_request_during_a_call_is_a_server_and_a_client_span_in_the_calls_trace()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await capture.StartGatewayAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("sampler"));
        await gateway.WaitConnectedAsync("sampler");
        JsonObject? samplingMeta = null;
        await using var client = await gateway.ConnectAsync("sampler/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: new McpClientHandlers
        {
            SamplingHandler = (request, _, _) =>
            {
                samplingMeta = request!.Meta;
                return ValueTask.FromResult(new CreateMessageResult { Model = "m", Role = Role.Assistant, Content = [new TextContentBlock { Text = "short" }] });
            },
        });
        var trace = ActivityTraceId.CreateRandom();

        await client.CallToolAsync("summarize", new Dictionary<string, object?> { ["text"] = "long" },
            options: new RequestOptions { Meta = new JsonObject { ["traceparent"] = $"00-{trace}-{ActivitySpanId.CreateRandom()}-01" } });

        var spans = await capture.SpansAsync(trace, s => s.Count(x => x.DisplayName == "sampling/createMessage") == 2);
        var call = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.DisplayName == "tools/call summarize");
        var received = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.DisplayName == "sampling/createMessage");
        var passedOn = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.DisplayName == "sampling/createMessage");
        Assert.Equal(call.SpanId, received.ParentSpanId); // the upstream sent no context: the call that caused it is the parent
        Assert.Equal(received.SpanId, passedOn.ParentSpanId);
        Assert.Equal($"00-{trace}-{passedOn.SpanId}-01", samplingMeta?["traceparent"]?.GetValue<string>());
        // Passing the upstream's request to the caller is no call to the upstream.
        Assert.Equal(1, (await gateway.Admin.GetMetricsAsync()).Upstreams["sampler"].Calls);
    }
#pragma warning restore MCP9005
}
