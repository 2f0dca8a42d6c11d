using System.Diagnostics.Metrics;
using McpServerless.Bridge;
using McpServerless.Proxy.Downstream;
using McpServerless.Proxy.Management;
using McpServerless.VirtualServers;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// The gateway's observable gauges, read when scraped: which upstreams are connected, how many downstream sessions
/// are open and how many calls the revision bridge holds. The MCP conventions have no such instruments, so they keep
/// the gateway's names.
/// </summary>
internal sealed class GatewayGauges
{
    private static readonly KeyValuePair<string, object?> AggregatedRoute = new(McpConventions.GatewayRoute, RelayRoutes.Aggregated);
    private static readonly KeyValuePair<string, object?> ServerRoute = new(McpConventions.GatewayRoute, RelayRoutes.Server);
    private static readonly KeyValuePair<string, object?> VirtualRoute = new(McpConventions.GatewayRoute, RelayRoutes.Virtual);

    /// <param name="virtualServers">Tells a virtual server's sessions from a server's: the two share one namespace.</param>
    public GatewayGauges(ProxyInstruments instruments, IUpstreamLookup upstreams, DownstreamSessions sessions, VirtualServerCatalog virtualServers,
        PendingCallRegistry pendingCalls)
    {
        instruments.Meter.CreateObservableGauge("mcp_gateway.upstream.connected",
            () => upstreams.Connections.Select(c => new Measurement<int>(c.Session is null ? 0 : 1, new KeyValuePair<string, object?>(McpConventions.GatewayServer, c.Name))),
            description: "1 while the upstream MCP server is connected");
        instruments.Meter.CreateObservableUpDownCounter("mcp_gateway.sessions.active",
            () => sessions.CountByName().Select(p => p.Key == DownstreamSessions.Aggregate
                ? new Measurement<int>(p.Value, AggregatedRoute)
                : virtualServers.TryGet(p.Key, out _)
                ? new Measurement<int>(p.Value, VirtualRoute, new KeyValuePair<string, object?>(McpConventions.GatewayVirtualServer, p.Key))
                : new Measurement<int>(p.Value, ServerRoute, new KeyValuePair<string, object?>(McpConventions.GatewayServer, p.Key))),
            description: "Open downstream MCP sessions");
        instruments.Meter.CreateObservableUpDownCounter("mcp_gateway.bridge.pending_calls", () => pendingCalls.Count,
            description: "Upstream calls of stateless callers parked until the caller retries with the input asked for (the revision bridge)");
    }
}
