using McpServerless.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
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
/// </summary>
public sealed class OAuthAuthenticator(IOptions<McpProxyOptions> options, ProtectedResources resources)
{
    public const string Scheme = "McpGatewayOAuth";

    private readonly OAuthOptions _settings = options.Value.OAuth;

    public bool IsEnabled => _settings.IsEnabled;

    public ProtectedResources Resources => resources;

    public async Task<OAuthOutcome> AuthenticateAsync(HttpContext context, string resourcePath)
    {
        var result = await context.AuthenticateAsync(Scheme);
        if (!result.Succeeded)
            return new(null, Describe(result.Failure), IsAuthorityUnavailable(result.Failure));

        var principal = new OAuthPrincipal(result.Principal);
        foreach (var audience in principal.FindAll("aud"))
        {
            if (_settings.Audiences.Count > 0
                    ? _settings.Audiences.Contains(audience.Value, StringComparer.Ordinal)
                    : resources.IsAudience(audience.Value, context.Request, resourcePath))
                return new(principal, null);
        }
        return new(null, "The access token was issued for another resource: its audience is neither this endpoint nor this gateway.");
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
