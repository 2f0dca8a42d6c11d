using McpServerless.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace McpServerless.Security.OAuth;

/// <summary>What checking a bearer token as an OAuth access token found: the caller, or why not.</summary>
public readonly record struct OAuthOutcome(OAuthPrincipal? Principal, string? Failure, bool AuthorityUnavailable = false);

/// <summary>
/// Checks access tokens for one resource of the gateway: ASP.NET Core's JwtBearer handler (scheme <see cref="Scheme"/>,
/// set up by <see cref="OAuthServiceCollectionExtensions.AddGatewayOAuth"/>) verifies the signature against the issuer's
/// published keys, the issuer and the lifetime; the audience is checked here, as it depends on the endpoint called
/// (RFC 8707): one of <c>McpProxy:OAuth:Audiences</c> when listed, else the endpoint's canonical URI or the gateway's.
/// Tokens are read from the <c>Authorization</c> header only.
/// <para>
/// A token that passed is remembered, by its SHA-256, until it expires or for <see cref="RememberFor"/> at most: a
/// client sends the same token with every request, and an RSA signature check is the costliest step of the access
/// check on the proxy path. Only the signature, issuer and lifetime checks are spared, and only while the
/// issuer's keys are those the token was checked with: when the gateway reloads them (a rollover, a withdrawn key,
/// the periodic refresh) every remembered token is checked again. The audience and the scopes are checked on every
/// request.
/// </para>
/// </summary>
public sealed class OAuthAuthenticator(
    IOptions<McpProxyOptions> options, IOptionsMonitor<JwtBearerOptions> jwtOptions, ProtectedResources resources, TimeProvider time) : IDisposable
{
    public const string Scheme = "McpGatewayOAuth";

    /// <summary>The longest a validated token is trusted without checking its signature again.</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(5);

    private readonly OAuthOptions _settings = options.Value.OAuth;
    private readonly MemoryCache _validated = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private IConfigurationManager<OpenIdConnectConfiguration>? _issuerKeys;

    public bool IsEnabled => _settings.IsEnabled;

    public ProtectedResources Resources => resources;

    /// <param name="token">The bearer token of the request, which JwtBearer reads from the same header.</param>
    public async Task<OAuthOutcome> AuthenticateAsync(HttpContext context, ReadOnlyMemory<char> token, string resourcePath)
    {
        var key = TokenSet.CallerKey(token.Span)!;
        // Read before the handler runs: should it reload the keys meanwhile, the entry names the older set and the next
        // request checks the token again.
        var keys = await IssuerKeysAsync(context.RequestAborted);
        OAuthPrincipal principal;
        if (_validated.TryGetValue(key, out Remembered? remembered) && remembered!.Keys == keys && time.GetUtcNow() < remembered.Until)
        {
            principal = remembered.Principal;
        }
        else
        {
            var result = await context.AuthenticateAsync(Scheme);
            if (!result.Succeeded)
                return new(null, Describe(result.Failure), IsAuthorityUnavailable(result.Failure));
            principal = new OAuthPrincipal(result.Principal);
            Remember(key, principal, keys);
        }

        foreach (var audience in principal.FindAll("aud"))
        {
            if (_settings.Audiences.Count > 0
                    ? _settings.Audiences.Contains(audience.Value, StringComparer.Ordinal)
                    : resources.IsAudience(audience.Value, context.Request, resourcePath))
                return new(principal, null);
        }
        return new(null, "The access token was issued for another resource: its audience is neither this endpoint nor this gateway.");
    }

    public void Dispose() => _validated.Dispose();

    /// <summary>A validated token's caller, the issuer's key set it was checked with, and until when it is trusted.</summary>
    private sealed record Remembered(OAuthPrincipal Principal, OpenIdConnectConfiguration Keys, DateTimeOffset Until);

    private void Remember(string key, OAuthPrincipal principal, OpenIdConnectConfiguration? keys)
    {
        if (keys is null || principal.ExpiresAt is not { } expires) return;
        var latest = time.GetUtcNow() + RememberFor;
        var until = expires < latest ? expires : latest;
        _validated.Set(key, new Remembered(principal, keys, until), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = until });
    }

    // The key set JwtBearer checks signatures with, as its configuration manager holds it (no fetch while it is fresh);
    // null while the issuer's metadata cannot be read, so nothing is remembered then.
    private async ValueTask<OpenIdConnectConfiguration?> IssuerKeysAsync(CancellationToken cancellationToken)
    {
        if ((_issuerKeys ??= jwtOptions.Get(Scheme).ConfigurationManager) is not { } manager) return null;
        try
        {
            return await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (InvalidOperationException)
        {
            return null; // the handler meets the same failure and reports it
        }
    }

    /// <summary>The challenge of a refusal on <paramref name="resourcePath"/>.</summary>
    public BearerChallenge Challenge(HttpRequest request, string resourcePath, string? scope, string? error = null, string? description = null) =>
        new(resources.MetadataUri(request, resourcePath), scope, error, description);

    /// <summary>True when the request carries a token in its query string (RFC 6750 §2.3), which OAuth 2.1 forbids.</summary>
    public static bool HasQueryToken(HttpRequest request) => request.Query.ContainsKey("access_token");

    // The handler's exception names what failed; its message may quote the token, so it is never passed on.
    private static string Describe(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "The access token has expired.",
        SecurityTokenNotYetValidException => "The access token is not valid yet.",
        SecurityTokenNoExpirationException => "The access token has no expiry time.",
        SecurityTokenInvalidIssuerException => "The access token was not issued by the authorization server this gateway trusts.",
        SecurityTokenSignatureKeyNotFoundException => "The access token is signed with a key its issuer does not publish.",
        SecurityTokenInvalidSignatureException => "The access token's signature is invalid.",
        SecurityTokenMalformedException => "The bearer token is neither a configured static token nor a well-formed JWT.",
        _ when IsAuthorityUnavailable(failure) => "The gateway cannot read its authorization server's metadata right now; retry later.",
        _ => "The access token is invalid.",
    };

    // IDX20803: the issuer's metadata or keys could not be fetched; no token could pass, whatever the client does.
    private static bool IsAuthorityUnavailable(Exception? failure) =>
        failure is InvalidOperationException && failure.Message.StartsWith("IDX20803", StringComparison.Ordinal);
}
