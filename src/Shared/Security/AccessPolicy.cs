using System.Net;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Security.OAuth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace McpServerless.Security;

public enum AccessOutcome
{
    Allowed,

    /// <summary>No valid credentials: answer 401 with a Bearer challenge.</summary>
    Unauthorized,

    /// <summary>The caller's address is not allowed, or its token lacks a scope: answer 403.</summary>
    Forbidden,

    /// <summary>The request is malformed (a token in the query string): answer 400.</summary>
    BadRequest,

    /// <summary>The authorization server's keys cannot be read, so no token can be checked: answer 503.</summary>
    Unavailable,
}

/// <param name="Challenge">The OAuth challenge to send with the refusal, when OAuth is on.</param>
public readonly record struct AccessDecision(AccessOutcome Outcome, string? Reason, BearerChallenge? Challenge = null)
{
    public static AccessDecision Allowed => default;

    public bool IsAllowed => Outcome == AccessOutcome.Allowed;
}

/// <summary>The per-server (or per-virtual-server) part of the proxy policy, compiled once per definition (the proxy path is hot).</summary>
public sealed class McpAccessRule
{
    private McpAccessRule(IpAllowList allowedIps, TokenSet tokens, bool requireAuth, ScopeRequirement? scopes)
    {
        AllowedIps = allowedIps;
        Tokens = tokens;
        RequireAuth = requireAuth;
        Scopes = scopes;
    }

    public static McpAccessRule Open { get; } = new(IpAllowList.Empty, TokenSet.Empty, requireAuth: false, scopes: null);

    public IpAllowList AllowedIps { get; }

    public TokenSet Tokens { get; }

    public bool RequireAuth { get; }

    /// <summary>What an OAuth token needs here: the server's own <c>requiredScopes</c>/<c>requiredRoles</c>, or null for the configured defaults.</summary>
    public ScopeRequirement? Scopes { get; }

    /// <summary>Compiles a validated server's or virtual server's <c>allowedIPs</c>, <c>authTokens</c>, <c>requireAuth</c>, <c>requiredScopes</c> and <c>requiredRoles</c>.</summary>
    public static McpAccessRule From(IAccessControlled definition) =>
        new(IpAllowList.Parse(definition.AllowedIps), TokenSet.Create(definition.AuthTokens), definition.RequireAuth,
            ScopeRequirement.From(definition.RequiredScopes, definition.RequiredRoles));
}

/// <summary>
/// The one place that decides who may call the admin API and the proxy endpoints.
/// Admin: a browser's <c>Origin</c> must be admitted by the <see cref="FrontDoorPolicy"/> (this holds on every host,
/// the Functions app included), the address must be in <c>AdminAllowIPs</c> (when set), then a valid admin token is
/// required — a static one, or with <c>McpProxy:OAuth</c> an access token carrying an admin scope or role; with neither
/// configured only a loopback client that names a trusted Host is let in.
/// Proxy: the address must be in the server's <c>allowedIPs</c> (when set); a token is required when
/// global tokens exist, the server sets <c>requireAuth</c> or has <c>authTokens</c>, and then either a
/// global token or one of the server's tokens is accepted. With OAuth on, a token is always required, and an access
/// token from the issuer also passes when it carries the server's scopes (<see cref="McpAccessRule.Scopes"/>, else
/// <c>RequiredScopes</c>/<c>RequiredRoles</c>). Refusals then carry the challenge MCP clients discover the
/// authorization server by.
/// </summary>
public sealed class AccessPolicy
{
    private readonly FrontDoorPolicy _frontDoor;
    private readonly OAuthAuthenticator _oauth;
    private readonly ClientIpResolver _clientIp;
    private readonly IpAllowList _adminAllowList;
    private readonly TokenSet _adminTokens;
    private readonly TokenSet _globalTokens;
    private readonly ScopeRequirement _adminScopes;
    private readonly ScopeRequirement _defaultScopes;
    private readonly bool _oauthAdmins;

    public AccessPolicy(IOptions<McpProxyOptions> options, FrontDoorPolicy frontDoor, OAuthAuthenticator oauth)
    {
        var settings = options.Value;
        _frontDoor = frontDoor;
        _oauth = oauth;
        _clientIp = new ClientIpResolver(IpAllowList.Parse(settings.TrustedProxies));
        _adminAllowList = IpAllowList.Parse(settings.AdminAllowIPs);
        _adminTokens = TokenSet.Create(settings.AdminTokens);
        _globalTokens = TokenSet.Create(settings.GlobalAuthTokens);
        _adminScopes = new ScopeRequirement(settings.OAuth.AdminScopes, settings.OAuth.AdminRoles);
        _defaultScopes = new ScopeRequirement(settings.OAuth.RequiredScopes, settings.OAuth.RequiredRoles);
        _oauthAdmins = settings.OAuth.AdminEnabled;
    }

    /// <summary>True when the admin API is open to loopback clients only because no admin token (static or OAuth) is set.</summary>
    public bool AdminIsLoopbackOnly => _adminTokens.IsEmpty && !_oauthAdmins;

    /// <summary>True when MCP endpoints take OAuth access tokens (and so always want a token).</summary>
    public bool OAuthEnabled => _oauth.IsEnabled;

    public IPAddress? ResolveClientIp(HttpContext context) => _clientIp.Resolve(context);

    /// <summary>What an OAuth token needs on a server with <paramref name="rule"/>: its own requirement or the defaults.</summary>
    public ScopeRequirement ScopesFor(McpAccessRule rule) => rule.Scopes ?? _defaultScopes;

    /// <summary>
    /// Whether the caller may use the admin API. Decided once per request: the proxy host decides before choosing the
    /// request's rate-limit partition (<see cref="AdminDecisionOf"/>), and the admin call itself asks again.
    /// </summary>
    public async ValueTask<AccessDecision> AuthorizeAdminAsync(HttpContext context)
    {
        if (AdminDecisionOf(context) is { } decided) return decided;
        var decision = await DecideAdminAsync(context);
        context.Items[AdminDecisionKey] = decision;
        return decision;
    }

    /// <summary>The admin decision already taken for this request, if any.</summary>
    public static AccessDecision? AdminDecisionOf(HttpContext context) =>
        context.Items.TryGetValue(AdminDecisionKey, out var decided) ? decided as AccessDecision? : null;

    private static readonly object AdminDecisionKey = new();

    /// <summary>
    /// Who an admitted caller is, for binding sessions and counting quotas: an OAuth caller by its issuer and subject
    /// (so a refreshed token keeps its sessions), else by a hash of its static token; null for a caller without a token.
    /// </summary>
    public static string? CallerKeyOf(HttpContext context) => context.User is OAuthPrincipal principal
        ? "principal:" + TokenSet.CallerKey($"{principal.Issuer}\n{principal.Subject}")
        : TokenSet.CallerKey(BearerToken(context.Request)) is { } token ? "token:" + token : null;

    private async ValueTask<AccessDecision> DecideAdminAsync(HttpContext context)
    {
        if (!_frontDoor.IsAllowedOrigin(context.Request))
            return new(AccessOutcome.Forbidden, ForeignOrigin);
        var client = _clientIp.Resolve(context);
        if (!_adminAllowList.IsEmpty && !_adminAllowList.Contains(client))
            return new(AccessOutcome.Forbidden, "Your address is not in the admin allow-list.");

        var token = BearerTokenMemory(context.Request);
        if (_adminTokens.Matches(token.Span)) return AccessDecision.Allowed;
        // The admin API is the gateway itself as a resource: its metadata is the root document.
        if (_oauthAdmins) return await AuthorizeOAuthAsync(context, "", token, _adminScopes, "A valid admin token is required.");
        if (_adminTokens.IsEmpty)
        {
            // A rebinding page reaches a loopback gateway from a loopback peer; the Host it names gives it away, even
            // where host filtering was opened with "*".
            return client is not null && IPAddress.IsLoopback(client) && _frontDoor.IsTrustedHost(context.Request.Host.Value ?? "")
                ? AccessDecision.Allowed
                : new(AccessOutcome.Forbidden, "No admin tokens are configured, so the admin API answers loopback clients that name the gateway by a trusted host only.");
        }
        return new(AccessOutcome.Unauthorized, "A valid admin bearer token is required.");
    }

    /// <summary>Whether the caller may use the MCP server with <paramref name="rule"/> (the aggregated endpoint: <see cref="McpAccessRule.Open"/>).</summary>
    public ValueTask<AccessDecision> AuthorizeMcpAsync(HttpContext context, McpAccessRule rule)
    {
        var client = _clientIp.Resolve(context);
        if (!rule.AllowedIps.IsEmpty && !rule.AllowedIps.Contains(client))
            return ValueTask.FromResult(new AccessDecision(AccessOutcome.Forbidden, "Your address is not allowed to use this MCP server."));

        var token = BearerTokenMemory(context.Request);
        if (!_oauth.IsEnabled) return ValueTask.FromResult(AuthorizeStatic(token.Span, rule));
        if (_globalTokens.Matches(token.Span) | rule.Tokens.Matches(token.Span)) return ValueTask.FromResult(AccessDecision.Allowed);
        return AuthorizeOAuthAsync(context, ProtectedResources.McpResourcePath(context.Request.Path), token, ScopesFor(rule),
            "A valid bearer token is required for this MCP server.");
    }

    /// <summary>
    /// The proxy rule for a caller already admitted to the aggregated endpoint, per server: its address, the static
    /// token it presented and its OAuth principal (null for none), as the request that carries the call authenticated them.
    /// </summary>
    public bool Admits(IPAddress? client, ReadOnlySpan<char> token, OAuthPrincipal? principal, McpAccessRule rule)
    {
        if (!rule.AllowedIps.IsEmpty && !rule.AllowedIps.Contains(client)) return false;
        if (!_oauth.IsEnabled) return AuthorizeStatic(token, rule).IsAllowed;
        return (_globalTokens.Matches(token) | rule.Tokens.Matches(token)) || (principal is not null && ScopesFor(rule).IsMetBy(principal));
    }

    /// <summary>True when <paramref name="rule"/> lets any caller in: no address list and no token of any kind.</summary>
    public bool AdmitsAnyone(McpAccessRule rule) =>
        rule.AllowedIps.IsEmpty && !rule.RequireAuth && rule.Tokens.IsEmpty && _globalTokens.IsEmpty && !_oauth.IsEnabled;

    private AccessDecision AuthorizeStatic(ReadOnlySpan<char> token, McpAccessRule rule)
    {
        var needsToken = rule.RequireAuth || !rule.Tokens.IsEmpty || !_globalTokens.IsEmpty;
        if (!needsToken) return AccessDecision.Allowed;

        return _globalTokens.Matches(token) | rule.Tokens.Matches(token)
            ? AccessDecision.Allowed
            : new(AccessOutcome.Unauthorized, "A valid bearer token is required for this MCP server.");
    }

    /// <summary>
    /// A bearer token that is no static token, checked as an access token for <paramref name="resourcePath"/>; on success
    /// the caller becomes <c>HttpContext.User</c>. Refusals follow RFC 6750 and the MCP authorization spec: 401 with
    /// the metadata URL (and the scopes to ask for) without a token or with an invalid one, 403
    /// <c>insufficient_scope</c> naming the scopes to step up to, 400 for a token in the query string.
    /// </summary>
    private async ValueTask<AccessDecision> AuthorizeOAuthAsync(HttpContext context, string resourcePath, ReadOnlyMemory<char> token, ScopeRequirement needed, string missing)
    {
        var request = context.Request;
        if (OAuthAuthenticator.HasQueryToken(request))
        {
            const string queryToken = "Send the access token in the Authorization header; tokens in the query string are refused.";
            return new(AccessOutcome.BadRequest, queryToken, _oauth.Challenge(request, resourcePath, needed.ChallengeScope, BearerChallenge.InvalidRequest, queryToken));
        }
        if (token.IsEmpty)
            return new(AccessOutcome.Unauthorized, missing, _oauth.Challenge(request, resourcePath, needed.ChallengeScope));

        var outcome = await _oauth.AuthenticateAsync(context, token, resourcePath);
        if (outcome.Principal is not { } principal)
        {
            return new(outcome.AuthorityUnavailable ? AccessOutcome.Unavailable : AccessOutcome.Unauthorized, outcome.Failure,
                _oauth.Challenge(request, resourcePath, needed.ChallengeScope, BearerChallenge.InvalidToken, outcome.Failure));
        }
        if (!needed.IsMetBy(principal))
        {
            var reason = needed.Describe();
            return new(AccessOutcome.Forbidden, reason, _oauth.Challenge(request, resourcePath, needed.ChallengeScope, BearerChallenge.InsufficientScope, reason));
        }
        context.User = principal;
        return AccessDecision.Allowed;
    }

    /// <summary>Why a request with a foreign <c>Origin</c> is refused.</summary>
    public const string ForeignOrigin = "The request's Origin is not this gateway's own and is not listed in McpProxy:AllowedOrigins.";

    public static ReadOnlySpan<char> BearerToken(HttpRequest request) => BearerTokenMemory(request).Span;

    private static ReadOnlyMemory<char> BearerTokenMemory(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().AsMemory().Trim();
        const string scheme = "Bearer ";
        return header.Span.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : ReadOnlyMemory<char>.Empty;
    }

    /// <summary>
    /// The HTTP answer for a refusal: problem details, with a Bearer challenge on 401 (and on every OAuth refusal, the
    /// challenge MCP clients follow; without OAuth the plain challenge static-token clients always got).
    /// </summary>
    public static IResult Deny(HttpContext context, AccessDecision decision)
    {
        if (decision.Challenge is { } challenge)
            context.Response.Headers[HeaderNames.WWWAuthenticate] = challenge.ToString();
        else if (decision.Outcome == AccessOutcome.Unauthorized)
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"mcp-gateway\"";

        return decision.Outcome switch
        {
            AccessOutcome.Unauthorized => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: decision.Reason),
            AccessOutcome.BadRequest => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: decision.Reason),
            AccessOutcome.Unavailable => Unavailable(context, decision.Reason),
            _ => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: decision.Reason),
        };
    }

    private static IResult Unavailable(HttpContext context, string? reason)
    {
        context.Response.Headers.RetryAfter = "5";
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Authorization server unavailable", detail: reason);
    }
}
