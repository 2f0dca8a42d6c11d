using System.Net;
using McpServerless.Configuration;
using McpServerless.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace McpServerless.Security;

public enum AccessOutcome
{
    Allowed,

    /// <summary>No valid credentials: answer 401 with a Bearer challenge.</summary>
    Unauthorized,

    /// <summary>The caller's address is not allowed: answer 403.</summary>
    Forbidden,
}

public readonly record struct AccessDecision(AccessOutcome Outcome, string? Reason)
{
    public static AccessDecision Allowed => default;

    public bool IsAllowed => Outcome == AccessOutcome.Allowed;
}

/// <summary>The per-server (or per-virtual-server) part of the proxy policy, compiled once per definition (the proxy path is hot).</summary>
public sealed class McpAccessRule
{
    private McpAccessRule(IpAllowList allowedIps, TokenSet tokens, bool requireAuth)
    {
        AllowedIps = allowedIps;
        Tokens = tokens;
        RequireAuth = requireAuth;
    }

    public static McpAccessRule Open { get; } = new(IpAllowList.Empty, TokenSet.Empty, requireAuth: false);

    public IpAllowList AllowedIps { get; }

    public TokenSet Tokens { get; }

    public bool RequireAuth { get; }

    /// <summary>Compiles a validated definition's <c>allowedIPs</c>, <c>authTokens</c> and <c>requireAuth</c>.</summary>
    public static McpAccessRule From(McpDefinition definition) =>
        new(IpAllowList.Parse(definition.AllowedIps), TokenSet.Create(definition.AuthTokens), definition.RequireAuth);

    /// <summary>Compiles a validated virtual server's access rules, which work as a server's.</summary>
    public static McpAccessRule From(VirtualServerDefinition definition) =>
        new(IpAllowList.Parse(definition.AllowedIps), TokenSet.Create(definition.AuthTokens), definition.RequireAuth);
}

/// <summary>
/// The one place that decides who may call the admin API and the proxy endpoints.
/// Admin: a browser's <c>Origin</c> must be admitted by the <see cref="FrontDoorPolicy"/> (this holds on every host,
/// the Functions app included), the address must be in <c>AdminAllowIPs</c> (when set), then a valid admin token is
/// required; with no admin tokens configured only a loopback client that names a trusted Host is let in.
/// Proxy: the address must be in the server's <c>allowedIPs</c> (when set); a token is required when
/// global tokens exist, the server sets <c>requireAuth</c> or has <c>authTokens</c>, and then either a
/// global token or one of the server's tokens is accepted.
/// </summary>
public sealed class AccessPolicy
{
    private readonly FrontDoorPolicy _frontDoor;
    private readonly ClientIpResolver _clientIp;
    private readonly IpAllowList _adminAllowList;
    private readonly TokenSet _adminTokens;
    private readonly TokenSet _globalTokens;

    public AccessPolicy(IOptions<McpProxyOptions> options, FrontDoorPolicy frontDoor)
    {
        var settings = options.Value;
        _frontDoor = frontDoor;
        _clientIp = new ClientIpResolver(IpAllowList.Parse(settings.TrustedProxies));
        _adminAllowList = IpAllowList.Parse(settings.AdminAllowIPs);
        _adminTokens = TokenSet.Create(settings.AdminTokens);
        _globalTokens = TokenSet.Create(settings.GlobalAuthTokens);
    }

    /// <summary>True when the admin API is open to loopback clients only because no admin token is set.</summary>
    public bool AdminIsLoopbackOnly => _adminTokens.IsEmpty;

    public IPAddress? ResolveClientIp(HttpContext context) => _clientIp.Resolve(context);

    public AccessDecision AuthorizeAdmin(HttpContext context)
    {
        if (!_frontDoor.IsAllowedOrigin(context.Request))
            return new(AccessOutcome.Forbidden, ForeignOrigin);
        var client = _clientIp.Resolve(context);
        if (!_adminAllowList.IsEmpty && !_adminAllowList.Contains(client))
            return new(AccessOutcome.Forbidden, "Your address is not in the admin allow-list.");
        if (_adminTokens.IsEmpty)
        {
            // A rebinding page reaches a loopback gateway from a loopback peer; the Host it names gives it away, even
            // where host filtering was opened with "*".
            return client is not null && IPAddress.IsLoopback(client) && _frontDoor.IsTrustedHost(context.Request.Host.Value ?? "")
                ? AccessDecision.Allowed
                : new(AccessOutcome.Forbidden, "No admin tokens are configured, so the admin API answers loopback clients that name the gateway by a trusted host only.");
        }
        return _adminTokens.Matches(BearerToken(context.Request))
            ? AccessDecision.Allowed
            : new(AccessOutcome.Unauthorized, "A valid admin bearer token is required.");
    }

    public AccessDecision AuthorizeMcp(HttpContext context, McpAccessRule rule) =>
        AuthorizeMcp(_clientIp.Resolve(context), BearerToken(context.Request), rule);

    /// <summary>True when <paramref name="rule"/> lets any caller in: no address list and no token of any kind.</summary>
    public bool AdmitsAnyone(McpAccessRule rule) =>
        rule.AllowedIps.IsEmpty && !rule.RequireAuth && rule.Tokens.IsEmpty && _globalTokens.IsEmpty;

    /// <summary>The proxy rule for a caller already identified (an aggregated session checks each server this way).</summary>
    public AccessDecision AuthorizeMcp(IPAddress? client, ReadOnlySpan<char> token, McpAccessRule rule)
    {
        if (!rule.AllowedIps.IsEmpty && !rule.AllowedIps.Contains(client))
            return new(AccessOutcome.Forbidden, "Your address is not allowed to use this MCP server.");

        var needsToken = rule.RequireAuth || !rule.Tokens.IsEmpty || !_globalTokens.IsEmpty;
        if (!needsToken) return AccessDecision.Allowed;

        return _globalTokens.Matches(token) | rule.Tokens.Matches(token)
            ? AccessDecision.Allowed
            : new(AccessOutcome.Unauthorized, "A valid bearer token is required for this MCP server.");
    }

    /// <summary>Why a request with a foreign <c>Origin</c> is refused.</summary>
    public const string ForeignOrigin = "The request's Origin is not this gateway's own and is not listed in McpProxy:AllowedOrigins.";

    public static ReadOnlySpan<char> BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().AsSpan().Trim();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : [];
    }

    /// <summary>The HTTP answer for a refusal: problem details, with a Bearer challenge on 401.</summary>
    public static IResult Deny(HttpContext context, AccessDecision decision)
    {
        if (decision.Outcome == AccessOutcome.Unauthorized)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"mcp-gateway\"";
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: decision.Reason);
        }
        return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: decision.Reason);
    }
}
