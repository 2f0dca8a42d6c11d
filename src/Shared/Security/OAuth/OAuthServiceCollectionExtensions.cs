using McpServerless.Configuration;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace McpServerless.Security.OAuth;

public static class OAuthServiceCollectionExtensions
{
    /// <summary>
    /// The resource-server side of OAuth on every host: the JwtBearer scheme <see cref="OAuthAuthenticator.Scheme"/>
    /// from <c>McpProxy:OAuth</c>. It is never a default scheme and runs only where the access policy asks, so a host
    /// that embeds the gateway keeps its own authentication.
    /// </summary>
    public static IServiceCollection AddGatewayOAuth(this IServiceCollection services)
    {
        services.TryAddSingleton<ProtectedResources>();
        services.TryAddSingleton<OAuthAuthenticator>();
        services.TryAddSingleton<ProtectedResourceMetadataEndpoint>();
        services.AddAuthentication().AddJwtBearer(OAuthAuthenticator.Scheme, _ => { });
        services.AddOptions<JwtBearerOptions>(OAuthAuthenticator.Scheme).Configure<IOptions<McpProxyOptions>>(Configure);
        return services;
    }

    private static void Configure(JwtBearerOptions jwt, IOptions<McpProxyOptions> gateway)
    {
        var settings = gateway.Value.OAuth;
        if (!settings.IsEnabled) return;

        var https = new Uri(settings.Authority!).Scheme == Uri.UriSchemeHttps; // plain http only on loopback (validated)
        jwt.Authority = settings.Authority;
        jwt.RequireHttpsMetadata = https;
        jwt.MapInboundClaims = false; // keep "sub", "scp", "roles" as the token names them
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            // Per endpoint: OAuthAuthenticator checks the audience against the resource the request addresses.
            ValidateAudience = false,
            ClockSkew = settings.ClockSkew,
            NameClaimType = "sub",
            RoleClaimType = "roles",
        };
        // Discovery by OpenID Connect or RFC 8414; a token signed with a key not yet seen makes the handler fetch the
        // keys again (at most every RefreshInterval), so a key rollover at the issuer needs no restart.
        var documents = new HttpClient { Timeout = jwt.BackchannelTimeout, MaxResponseContentBufferSize = 1024 * 1024 };
        jwt.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
            settings.Authority!, new AuthorizationServerMetadataRetriever(), new HttpDocumentRetriever(documents) { RequireHttps = https })
        {
            AutomaticRefreshInterval = jwt.AutomaticRefreshInterval,
            RefreshInterval = jwt.RefreshInterval,
            // A token that fails against the current keys would otherwise be tried against the "last known good" set
            // for an hour: a key the issuer withdrew (compromised) would keep admitting tokens. A failed refresh keeps
            // the current keys all the same.
            UseLastKnownGoodConfiguration = false,
        };
    }
}
