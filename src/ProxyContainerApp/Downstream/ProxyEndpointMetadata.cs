namespace McpServerless.Proxy.Downstream;

/// <summary>Marks the MCP endpoints of one upstream or virtual server (<c>/{name}/stream</c>, <c>/{name}/sse</c>): they share one namespace.</summary>
internal sealed class ServerEndpointMetadata
{
    public static readonly ServerEndpointMetadata Instance = new();
}

/// <summary>Marks the aggregated MCP endpoints (<c>/mcp</c>, <c>/sse</c>).</summary>
internal sealed class AggregateEndpointMetadata
{
    public static readonly AggregateEndpointMetadata Instance = new();
}
