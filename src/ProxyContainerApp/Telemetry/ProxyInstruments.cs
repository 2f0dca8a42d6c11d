using System.Diagnostics;
using System.Diagnostics.Metrics;
using McpServerless.Metrics;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// The proxy's OpenTelemetry instruments, on the same meter as <see cref="GatewayMetrics"/>, plus one
/// activity per relayed request; relayed requests are also tallied per server in <see cref="GatewayMetrics"/> for
/// <c>GET /admin/metrics</c>. Recording costs a few struct and interlocked operations when nobody listens.
/// </summary>
public sealed class ProxyInstruments
{
    public static readonly ActivitySource ActivitySource = new(GatewayMetrics.MeterName);

    private readonly Counter<long> _upstreamRequests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _reconnects;
    private readonly GatewayMetrics _metrics;

    public ProxyInstruments(IMeterFactory meterFactory, GatewayMetrics metrics)
    {
        _metrics = metrics;
        Meter = meterFactory.Create(GatewayMetrics.MeterName);
        _upstreamRequests = Meter.CreateCounter<long>("mcp_gateway.upstream.requests", description: "Requests relayed to upstream MCP servers");
        _upstreamDuration = Meter.CreateHistogram<double>("mcp_gateway.upstream.request.duration", unit: "s", description: "Time upstream MCP servers took to answer");
        _reconnects = Meter.CreateCounter<long>("mcp_gateway.upstream.reconnects", description: "Reconnect attempts to upstream MCP servers");
    }

    /// <summary>The gateway meter, for observable instruments whose owners live elsewhere.</summary>
    public Meter Meter { get; }

    /// <summary>The span of one request relayed upstream, or null when nobody listens.</summary>
    /// <param name="virtualServer">The virtual server the request came through, tagged beside the real server; null for none.</param>
    public static Activity? StartUpstreamActivity(string mcpName, string method, string? tool, string? virtualServer)
    {
        if (!ActivitySource.HasListeners()) return null;
        var activity = ActivitySource.StartActivity($"mcp {method}", ActivityKind.Client);
        activity?.SetTag("mcp.server", mcpName);
        activity?.SetTag("mcp.tool", tool);
        activity?.SetTag(VirtualServerTag, virtualServer);
        return activity;
    }

    /// <summary>The tag naming the virtual server a request came through; <c>mcp.server</c> names the real one.</summary>
    public const string VirtualServerTag = "mcp.virtual_server";

    /// <param name="tool">The tool's name on the upstream server.</param>
    /// <param name="virtualServer">The virtual server the request came through; null for none.</param>
    /// <param name="outcome"><c>ok</c>, <c>error</c> (a JSON-RPC error answer), <c>cancelled</c>, or an <see cref="Upstreams.UpstreamException.Outcome"/>.</param>
    public void RecordRequest(string mcpName, string method, string? tool, string? virtualServer, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList { { "mcp.server", mcpName }, { "mcp.method", method }, { "outcome", outcome } };
        if (tool is not null) tags.Add("mcp.tool", tool);
        if (virtualServer is not null) tags.Add(VirtualServerTag, virtualServer);
        _upstreamRequests.Add(1, tags);
        _upstreamDuration.Record(elapsed.TotalSeconds, tags);
        _metrics.RecordUpstreamCall(mcpName, failed: outcome is not ("ok" or "cancelled"), elapsed);
    }

    public void RecordReconnect(string mcpName) => _reconnects.Add(1, new KeyValuePair<string, object?>("mcp.server", mcpName));
}
