using McpServerless.Proxy.Upstreams;
using McpServerless.VirtualServers;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// What the access middleware established about a request to an MCP endpoint, for the session set-up that follows:
/// set once per request by <see cref="ProxyAccessMiddleware"/>, read through <c>HttpContext.Features</c>.
/// </summary>
internal interface IMcpProxyFeature
{
    /// <summary>Where the request's session lives: a server's or virtual server's endpoints or the aggregate, streamable or legacy SSE.</summary>
    SessionRoute Route { get; }

    /// <summary>Who is calling, for the per-server rules an aggregated session applies on every request.</summary>
    CallerIdentity Caller { get; }

    /// <summary>The connected upstream of a per-server request; null on the aggregate and on a virtual server.</summary>
    UpstreamConnection? Upstream { get; }

    /// <summary>The virtual server a request on <c>/{virtual}/…</c> is for; null elsewhere.</summary>
    VirtualServerPlan? Virtual { get; }

    /// <summary>The slot a session-opening request reserved; null otherwise.</summary>
    SessionSlot? Slot { get; }
}

internal sealed class McpProxyFeature(SessionRoute route, CallerIdentity caller) : IMcpProxyFeature
{
    public SessionRoute Route { get; } = route;

    public CallerIdentity Caller { get; } = caller;

    public UpstreamConnection? Upstream { get; set; }

    public VirtualServerPlan? Virtual { get; set; }

    public SessionSlot? Slot { get; set; }

    /// <summary>The session's relay, for the session runner to hand its own connections to.</summary>
    public RelayFilter? Relay { get; set; }
}

/// <summary>
/// Who opened a request: its address, its bearer token (a static token counts only if it is one) and, with OAuth, its
/// validated principal, kept so every server's own rules can be applied per request. A later request of an aggregated
/// session brings its own principal (<c>JsonRpcMessageContext.User</c>), which then counts instead.
/// </summary>
internal sealed record CallerIdentity(System.Net.IPAddress? Address, string Token, Security.OAuth.OAuthPrincipal? Principal)
{
    /// <summary>
    /// Whom a caller's bridged calls belong to: its OAuth issuer and subject (so a refreshed token keeps them), else its
    /// token's hash when it presented one, else its address — as <see cref="Security.AccessPolicy.CallerKeyOf"/> keys sessions.
    /// </summary>
    public string Key => Principal is { } principal
        ? "principal:" + Security.TokenSet.CallerKey($"{principal.Issuer}\n{principal.Subject}")
        : Security.TokenSet.CallerKey(Token) is { } hash ? $"token:{hash}" : $"address:{Address}";
}
