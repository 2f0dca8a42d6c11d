using System.Net;
using McpServerless.Security;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Where a downstream session lives: one server's endpoints (<c>/{name}/stream</c> and its alias <c>/{name}</c>) or the
/// aggregate (<see cref="DownstreamSessions.Aggregate"/>), over streamable HTTP or over legacy SSE (<c>…/sse</c> with its
/// <c>…/message</c> posts). A session id is good on its own route only.
/// </summary>
internal readonly record struct SessionRoute(string Server, bool LegacySse)
{
    public static SessionRoute Of(HttpContext context, string server)
    {
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
        return new(server, pattern.EndsWith("/sse", StringComparison.Ordinal) || pattern.EndsWith("/message", StringComparison.Ordinal));
    }

    /// <summary>True for the requests the SDK opens a stateful session on: a legacy SSE stream, or a streamable POST without a session id that is not a stateless (2026-07-28 and later) request.</summary>
    public bool OpensSession(HttpRequest request) => LegacySse
        ? HttpMethods.IsGet(request.Method)
        : HttpMethods.IsPost(request.Method) && !request.Headers.ContainsKey(SessionIdHeader)
            && string.CompareOrdinal(request.Headers[ProtocolVersionHeader].ToString(), FirstStatelessRevision) < 0;

    /// <summary>The session id a request names: the <c>Mcp-Session-Id</c> header, or on a legacy message post its <c>sessionId</c> query.</summary>
    public string? SessionIdOf(HttpRequest request) =>
        (LegacySse ? request.Query["sessionId"].ToString() : request.Headers[SessionIdHeader].ToString()) is { Length: > 0 } id ? id : null;

    private const string SessionIdHeader = "Mcp-Session-Id";
    private const string ProtocolVersionHeader = "MCP-Protocol-Version";
    private const string FirstStatelessRevision = "2026-07-28";
}

/// <summary>
/// Whom a session belongs to, fixed when it opens: its route and its caller, known by <see cref="AccessPolicy.CallerKeyOf"/>
/// (an OAuth caller's issuer and subject, or a SHA-256 of the static token it presented; null for none) and by its
/// address. Every later request on the session must come from the same owner; a client that moves to another address
/// opens a new session, as MCP clients do on a 404. An OAuth client that refreshes its token keeps its sessions.
/// </summary>
internal sealed record SessionOwner(SessionRoute Route, string? Caller, IPAddress? Address)
{
    /// <summary>The owner of a request that the access policy has admitted (so an OAuth caller is <c>HttpContext.User</c>).</summary>
    public static SessionOwner Of(HttpContext context, SessionRoute route, AccessPolicy policy) =>
        new(route, AccessPolicy.CallerKeyOf(context), policy.ResolveClientIp(context));

    /// <summary>What per-caller quotas count under: the caller when it presented a token, else the address.</summary>
    public string CallerKey => Caller ?? $"address:{Address}";
}
