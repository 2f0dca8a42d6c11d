using McpServerless.Proxy.Upstreams;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// What the access middleware established about a request to an MCP endpoint, for the session set-up that follows:
/// set once per request by <see cref="ProxyAccessMiddleware"/>, read through <c>HttpContext.Features</c>.
/// </summary>
internal interface IMcpProxyFeature
{
    /// <summary>Where the request's session lives: a server's endpoints or the aggregate, streamable or legacy SSE.</summary>
    SessionRoute Route { get; }

    /// <summary>Who is calling, for the per-server rules an aggregated session applies on every request.</summary>
    CallerIdentity Caller { get; }

    /// <summary>The connected upstream of a per-server request; null on the aggregate.</summary>
    UpstreamConnection? Upstream { get; }

    /// <summary>The slot a session-opening request reserved; null otherwise.</summary>
    SessionSlot? Slot { get; }
}

internal sealed class McpProxyFeature(SessionRoute route, CallerIdentity caller) : IMcpProxyFeature
{
    public SessionRoute Route { get; } = route;

    public CallerIdentity Caller { get; } = caller;

    public UpstreamConnection? Upstream { get; set; }

    public SessionSlot? Slot { get; set; }

    /// <summary>The relay of a per-server session, for the session runner to hand an isolated connection to.</summary>
    public ServerRelay? Relay { get; set; }
}

/// <summary>Who opened a request: its address and bearer token, kept so every server's own rules can be applied per request.</summary>
internal sealed record CallerIdentity(System.Net.IPAddress? Address, string Token)
{
    /// <summary>Whom a caller's bridged calls belong to: its token's hash when it presented one, else its address.</summary>
    public string Key => McpServerless.Security.TokenSet.CallerKey(Token) is { } hash ? $"token:{hash}" : $"address:{Address}";
}
