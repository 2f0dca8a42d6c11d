using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace McpServerless.Security.OAuth;

/// <summary>
/// Finds an issuer's metadata and signing keys as MCP clients do: OpenID Connect discovery
/// (<c>{issuer}/.well-known/openid-configuration</c>, what Entra ID and most servers publish), then RFC 8414
/// (<c>/.well-known/oauth-authorization-server</c> followed by the issuer's path), which a plain OAuth 2.1 server may
/// publish alone. Both documents carry <c>issuer</c> and <c>jwks_uri</c>, which is all validation needs, so the
/// library's OpenID Connect parser reads either.
/// </summary>
internal sealed class AuthorizationServerMetadataRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    /// <param name="address">The issuer URL.</param>
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        var issuer = new Uri(address);
        var openIdConnect = address.TrimEnd('/') + "/.well-known/openid-configuration";
        try
        {
            return await OpenIdConnectConfigurationRetriever.GetAsync(openIdConnect, retriever, cancel);
        }
        catch (IOException)
        {
            // The document retriever reports a missing document (404) or an unreachable server this way.
            var rfc8414 = issuer.GetLeftPart(UriPartial.Authority) + "/.well-known/oauth-authorization-server" + issuer.AbsolutePath.TrimEnd('/');
            return await OpenIdConnectConfigurationRetriever.GetAsync(rfc8414, retriever, cancel);
        }
    }
}
