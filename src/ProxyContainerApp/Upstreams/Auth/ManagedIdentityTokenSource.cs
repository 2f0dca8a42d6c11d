using Azure.Core;
using McpServerless.Model;
using McpServerless.Storage;

namespace McpServerless.Proxy.Upstreams.Auth;

/// <summary>
/// An Azure managed identity's token for the definition's scope (<c>api://…/.default</c>), from Azure.Identity: the
/// user-assigned identity named by <c>clientId</c>, else the one in <c>AZURE_CLIENT_ID</c> (what the deployment sets
/// to the proxy's identity); with neither, <c>DefaultAzureCredential</c>, as everywhere in the gateway.
/// </summary>
internal sealed class ManagedIdentityTokenSource(UpstreamAuth auth, TimeProvider time) : UpstreamTokenSource(time)
{
    private readonly TokenCredential _credential = AzureCredentials.Create(auth.ClientId ?? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID"));
    private readonly TokenRequestContext _request = new([auth.Scope!]);

    protected override async Task<UpstreamToken> FetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            var token = await _credential.GetTokenAsync(_request, cancellationToken);
            return new UpstreamToken(token.Token, token.ExpiresOn);
        }
        catch (Azure.Identity.AuthenticationFailedException ex)
        {
            throw new UpstreamAuthException($"the managed identity could not get a token for '{auth.Scope}': {ex.Message}");
        }
    }
}
