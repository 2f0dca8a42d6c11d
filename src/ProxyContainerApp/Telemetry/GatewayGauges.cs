using System.Diagnostics.Metrics;
using McpServerless.Proxy.Downstream;
using McpServerless.Proxy.Management;

namespace McpServerless.Proxy.Telemetry;

/// <summary>The gateway's observable gauges: which upstreams are connected and how many downstream sessions are open, read when scraped.</summary>
internal sealed class GatewayGauges
{
    public GatewayGauges(ProxyInstruments instruments, IUpstreamLookup upstreams, DownstreamSessions sessions)
    {
        instruments.Meter.CreateObservableGauge("mcp_gateway.upstream.connected",
            () => upstreams.Connections.Select(c => new Measurement<int>(c.Session is null ? 0 : 1, new KeyValuePair<string, object?>("mcp.server", c.Name))),
            description: "1 while the upstream MCP server is connected");
        instruments.Meter.CreateObservableUpDownCounter("mcp_gateway.sessions.active",
            () => sessions.CountByName().Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("mcp.server", p.Key.Length == 0 ? "(aggregate)" : p.Key))),
            description: "Open downstream MCP sessions");
    }
}
