using System.Text.Json.Serialization;
using McpServerless.Configuration;
using McpServerless.Serialization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace McpServerless.Security.OAuth;

/// <summary>An RFC 9728 protected resource metadata document, as the gateway writes it.</summary>
public sealed record ProtectedResourceMetadata(
    [property: JsonPropertyName("resource")] string Resource,
    [property: JsonPropertyName("authorization_servers")] IReadOnlyList<string> AuthorizationServers,
    [property: JsonPropertyName("scopes_supported")] IReadOnlyList<string>? ScopesSupported,
    [property: JsonPropertyName("bearer_methods_supported")] IReadOnlyList<string> BearerMethodsSupported);

/// <summary>
/// Serves <c>/.well-known/oauth-protected-resource</c> and its path-suffixed forms (RFC 9728 §3): for a resource the
/// host knows, its canonical URI, the issuer clients get tokens from, the scopes that resource wants and
/// <c>bearer_methods_supported: ["header"]</c>. The root document describes the gateway itself (and its admin API).
/// The issuer is named as its own metadata names it, since MCP clients compare the two exactly.
/// </summary>
public sealed class ProtectedResourceMetadataEndpoint(OAuthAuthenticator oauth, IOptionsMonitor<JwtBearerOptions> jwt, IOptions<McpProxyOptions> options)
{
    private static readonly string[] HeaderOnly = ["header"];
    private readonly OAuthOptions _settings = options.Value.OAuth;

    /// <param name="suffix">What follows the well-known path.</param>
    /// <param name="scopesOf">
    /// The scopes of a resource path the host serves (<c>/docs/stream</c>), or null when it serves no such resource. The
    /// gateway itself (the empty path) is answered here: the default and admin scopes.
    /// </param>
    public async Task<IResult> ServeAsync(HttpContext context, string? suffix, Func<string, IEnumerable<string>?> scopesOf)
    {
        var resourcePath = oauth.Resources.ResourcePathOfMetadataRequest(suffix);
        var scopes = resourcePath.Length == 0 ? _settings.RequiredScopes.Concat(_settings.AdminScopes) : scopesOf(resourcePath);
        if (scopes is null)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"This gateway serves no protected resource at '{resourcePath}'.");

        var supported = scopes.Distinct(StringComparer.Ordinal).ToArray();
        var document = new ProtectedResourceMetadata(
            oauth.Resources.ResourceUri(context.Request, resourcePath), [await IssuerAsync(context.RequestAborted)], supported.Length == 0 ? null : supported, HeaderOnly);
        return TypedResults.Json(document, GatewayJson.Default.ProtectedResourceMetadata);
    }

    private async Task<string> IssuerAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (jwt.Get(OAuthAuthenticator.Scheme).ConfigurationManager is { } configuration
                && (await configuration.GetConfigurationAsync(cancellationToken)).Issuer is { Length: > 0 } issuer)
                return issuer;
        }
        catch (InvalidOperationException)
        {
            // The issuer's metadata is unreachable right now; the configured authority still tells clients where to go.
        }
        return _settings.Authority!;
    }
}
