using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Metrics;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// The proxy's spans and instruments, by the OpenTelemetry MCP semantic conventions (<see cref="McpConventions"/>): a
/// SERVER span and <c>mcp.server.operation.duration</c> for every request or notification a downstream client sends,
/// a CLIENT span and <c>mcp.client.operation.duration</c> for every request relayed upstream (and for the
/// server-to-client requests the gateway passes on), <c>mcp.server.session.duration</c> per downstream session; plus
/// the gateway's own reconnect counter. <c>GET /admin/metrics</c> and the console's traffic charts read the same
/// measurements: a listener on <c>mcp.client.operation.duration</c> tallies each upstream call per server in
/// <see cref="GatewayMetrics"/>. The MCP SDK's own <c>Experimental.ModelContextProtocol</c> source and meter stay off:
/// its server span cannot see the outcome of a call the relay answers in a message filter, and enabling both would
/// count every call twice.
/// </summary>
public sealed class ProxyInstruments : IDisposable
{
    public static readonly ActivitySource ActivitySource = new(GatewayMetrics.MeterName);

    private readonly Histogram<double> _serverOperation;
    private readonly Histogram<double> _clientOperation;
    private readonly Histogram<double> _serverSession;
    private readonly Counter<long> _reconnects;
    private readonly MeterListener _tally = new();

    public ProxyInstruments(IMeterFactory meterFactory, GatewayMetrics metrics)
    {
        Meter = meterFactory.Create(GatewayMetrics.MeterName);
        var buckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = McpConventions.DurationBuckets };
        _serverOperation = Meter.CreateHistogram(McpConventions.ServerOperationDuration, "s",
            "MCP request or notification duration as observed on the receiver from the time it was received until the result or ack is sent.", advice: buckets);
        _clientOperation = Meter.CreateHistogram(McpConventions.ClientOperationDuration, "s",
            "The duration of the MCP request or notification as observed on the sender from the time it was sent until the response or ack is received.", advice: buckets);
        _serverSession = Meter.CreateHistogram(McpConventions.ServerSessionDuration, "s",
            "The duration of the MCP session as observed on the MCP server.", advice: buckets);
        _reconnects = Meter.CreateCounter<long>("mcp_gateway.upstream.reconnects", description: "Reconnect attempts to upstream MCP servers");
        _tally.SetMeasurementEventCallback<double>(TallyUpstreamCall);
        _tally.EnableMeasurementEvents(_clientOperation, metrics);
        _tally.Start();
    }

    /// <summary>The gateway meter, for observable instruments whose owners live elsewhere.</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Starts measuring a request or notification a peer sent the gateway. Its span's parent is the context in
    /// <c>params._meta</c>, linked to the ambient (HTTP request) context; without one, the ambient context is the parent.
    /// </summary>
    /// <param name="target">The tool or prompt name the request names, for the span name and attributes.</param>
    /// <param name="sessionTag">A hash of the session id (never the id: it works as a credential); null without a session.</param>
    /// <param name="fallbackParent">The parent when <c>_meta</c> has none, instead of the ambient context.</param>
    internal McpOperation StartServer(string method, string? target, JsonNode? parameters, RequestId requestId, McpPeer peer, string? protocolVersion,
        string? sessionTag = null, string? clientAddress = null, ActivityContext fallbackParent = default)
    {
        Activity? span = null;
        if (ActivitySource.HasListeners())
        {
            var parent = TraceContext.Extract(parameters, out var baggage);
            span = parent == default && fallbackParent != default
                ? ActivitySource.StartActivity(SpanName(method, target), ActivityKind.Server, fallbackParent)
                : parent == default
                ? ActivitySource.StartActivity(SpanName(method, target), ActivityKind.Server)
                : ActivitySource.StartActivity(SpanName(method, target), ActivityKind.Server, parent,
                    links: Activity.Current is { } ambient ? [new ActivityLink(ambient.Context)] : null);
            if (span is not null)
            {
                foreach (var (key, value) in baggage ?? []) span.AddBaggage(key, value);
                if (span.IsAllDataRequested)
                {
                    StartTags(span, method, peer, parameters, sessionTag);
                    if (requestId.Id is not null) span.SetTag(McpConventions.RequestId, requestId.ToString());
                    span.SetTag(McpConventions.ClientAddress, clientAddress);
                }
            }
        }
        return new(_serverOperation, span, method, target, peer, protocolVersion);
    }

    /// <summary>
    /// Starts measuring a request the gateway sends to a peer, and writes into its <c>params._meta</c> the context
    /// the peer continues: this operation's span, or with nothing recording, the caller's own (see <see cref="TraceContext.Inject"/>).
    /// </summary>
    internal McpOperation StartClient(string method, string? target, ref JsonNode? parameters, McpPeer peer, string? protocolVersion, string? sessionTag = null)
    {
        Activity? span = null;
        if (ActivitySource.HasListeners())
        {
            span = ActivitySource.StartActivity(SpanName(method, target), ActivityKind.Client);
            if (span is { IsAllDataRequested: true }) StartTags(span, method, peer, parameters, sessionTag);
        }
        parameters = TraceContext.Inject(span, parameters);
        return new(_clientOperation, span, method, target, peer, protocolVersion);
    }

    /// <summary>
    /// Notes the id the MCP SDK gave a request the gateway is sending, on the CLIENT span it is sent under: the SDK
    /// numbers requests as it sends them, so this is the first moment the id is known.
    /// </summary>
    internal static void RequestSending(JsonRpcMessage message)
    {
        if (message is JsonRpcRequest request && Activity.Current is { IsAllDataRequested: true, Kind: ActivityKind.Client } span
            && ReferenceEquals(span.Source, ActivitySource) && span.GetTagItem(McpConventions.RequestId) is null)
            span.SetTag(McpConventions.RequestId, request.Id.ToString());
    }

    /// <summary>
    /// Tallies one <c>mcp.client.operation.duration</c> measurement of a request sent to an upstream server for
    /// <c>GET /admin/metrics</c>: a failure when its <c>error.type</c> is anything but a tool's own error or the
    /// caller's cancellation. Requests the gateway passes to a downstream client (sampling, elicitation, roots) carry
    /// the server that asked, but are not calls to it.
    /// </summary>
    private static void TallyUpstreamCall(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? method = null, server = null, errorType = null;
        foreach (var (key, value) in tags)
        {
            switch (key)
            {
                case McpConventions.MethodName: method = value as string; break;
                case McpConventions.GatewayServer: server = value as string; break;
                case McpConventions.ErrorType: errorType = value as string; break;
            }
        }
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but current in the revision spoken upstream.
        if (server is null || method is RequestMethods.SamplingCreateMessage or RequestMethods.ElicitationCreate or RequestMethods.RootsList) return;
#pragma warning restore MCP9005
        ((GatewayMetrics)state!).RecordUpstreamCall(server, failed: errorType is not (null or AuditOutcomes.ToolError or AuditOutcomes.Cancelled),
            TimeSpan.FromSeconds(seconds));
    }

    /// <summary>Records the length of a downstream session that ended.</summary>
    internal void RecordSession(McpPeer peer, string? protocolVersion, TimeSpan elapsed, string? errorType)
    {
        if (!_serverSession.Enabled) return;
        var tags = new TagList
        {
            { McpConventions.NetworkTransport, peer.Transport },
            { McpConventions.NetworkProtocolName, peer.ProtocolName },
            { McpConventions.GatewayRoute, peer.Route },
        };
        if (protocolVersion is not null) tags.Add(McpConventions.ProtocolVersion, protocolVersion);
        if (peer.Server is not null) tags.Add(McpConventions.GatewayServer, peer.Server);
        if (peer.VirtualServer is not null) tags.Add(McpConventions.GatewayVirtualServer, peer.VirtualServer);
        if (errorType is not null) tags.Add(McpConventions.ErrorType, errorType);
        _serverSession.Record(elapsed.TotalSeconds, tags);
    }

    public void Dispose() => _tally.Dispose();

    public void RecordReconnect(string mcpName) => _reconnects.Add(1, new KeyValuePair<string, object?>(McpConventions.GatewayServer, mcpName));

    /// <summary>The tool or prompt a request names (<c>params.name</c> of <c>tools/call</c> and <c>prompts/get</c>): the span name's target.</summary>
    internal static string? TargetOf(string method, JsonNode? parameters) =>
        method is RequestMethods.ToolsCall or RequestMethods.PromptsGet ? parameters?["name"].AsString() : null;

    private static string SpanName(string method, string? target) => target is null ? method : $"{method} {target}";

    private static void StartTags(Activity span, string method, McpPeer peer, JsonNode? parameters, string? sessionTag)
    {
        span.SetTag(McpConventions.MethodName, method);
        span.SetTag(McpConventions.NetworkProtocolName, peer.ProtocolName);
        span.SetTag(McpConventions.SessionId, sessionTag);
        if (method is RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe)
            span.SetTag(McpConventions.ResourceUri, parameters?["uri"].AsString());
    }
}
