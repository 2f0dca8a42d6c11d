using System.Net;
using System.Net.Http.Headers;

namespace McpServerless.Proxy.Upstreams.Auth;

/// <summary>
/// Puts the gateway's own token on every request to an upstream. A 401 answer drops the token from the cache (the
/// upstream no longer takes it: revoked, or its keys rolled over), so the reconnect that follows fetches a new one.
/// </summary>
internal sealed class UpstreamAuthHandler(UpstreamTokenSource tokens, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized) tokens.Invalidate(token);
        return response;
    }
}
