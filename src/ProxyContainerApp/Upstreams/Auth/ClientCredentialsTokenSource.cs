using Duende.IdentityModel.Client;
using McpServerless.Model;

namespace McpServerless.Proxy.Upstreams.Auth;

/// <summary>
/// OAuth 2.1 client credentials (RFC 6749 §4.4) at the definition's token endpoint, with its client id and secret
/// (HTTP Basic), scopes and RFC 8707 resource; the request and its error answers are Duende.IdentityModel's.
/// </summary>
internal sealed class ClientCredentialsTokenSource(UpstreamAuth auth, HttpClient http, TimeProvider time) : UpstreamTokenSource(time)
{
    private readonly TimeProvider _time = time;

    protected override async Task<UpstreamToken> FetchAsync(CancellationToken cancellationToken)
    {
        using var request = new ClientCredentialsTokenRequest
        {
            Address = auth.TokenUrl,
            ClientId = auth.ClientId!,
            ClientSecret = auth.ClientSecret,
            Scope = auth.Scope,
        };
        if (auth.Resource is { } resource) request.Resource.Add(resource);

        var response = await http.RequestClientCredentialsTokenAsync(request, cancellationToken);
        if (response.IsError || response.AccessToken is not { Length: > 0 } token)
        {
            // The server's error code and description only: the request held the secret, the answer may echo it.
            throw new UpstreamAuthException(response.ErrorType == ResponseErrorType.Protocol
                ? $"the token endpoint refused the client credentials: {response.Error}{(response.ErrorDescription is { } d ? $" ({d})" : "")}"
                : $"the token endpoint could not be reached: {response.HttpStatusCode switch { 0 => response.Exception?.GetType().Name ?? "no answer", var status => $"HTTP {(int)status}" }}");
        }
        // Without expires_in the token's life is unknown; an hour is the common default, refreshed at half-life.
        var lifetime = response.ExpiresIn > 0 ? TimeSpan.FromSeconds(response.ExpiresIn) : TimeSpan.FromHours(1);
        return new UpstreamToken(token, _time.GetUtcNow() + lifetime);
    }
}

/// <summary>The gateway could not get a token for an upstream; the connection fails with this message, which names no secret.</summary>
internal sealed class UpstreamAuthException(string message) : Exception($"Upstream authentication failed: {message}.");
