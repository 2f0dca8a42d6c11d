namespace McpServerless.Proxy.Downstream;

/// <summary>Marks the MCP endpoints of one upstream server (<c>/{name}/stream</c>, <c>/{name}/sse</c>).</summary>
internal sealed class ServerEndpointMetadata
{
    public static readonly ServerEndpointMetadata Instance = new();
}

/// <summary>Marks the aggregated MCP endpoints (<c>/mcp</c>, <c>/sse</c>).</summary>
internal sealed class AggregateEndpointMetadata
{
    public static readonly AggregateEndpointMetadata Instance = new();
}

/// <summary>
/// Who opened an aggregated session, kept so every server's own rules can be applied per request: its address, the
/// bearer token it sent (a static token counts only if it is one) and, with OAuth, its validated principal. A later
/// request of the session brings its own principal (<c>JsonRpcMessageContext.User</c>), which then counts instead.
/// </summary>
internal sealed record CallerIdentity(System.Net.IPAddress? Address, string Token, Security.OAuth.OAuthPrincipal? Principal);
