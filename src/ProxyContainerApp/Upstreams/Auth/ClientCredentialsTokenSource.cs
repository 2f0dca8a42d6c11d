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
            throw new UpstreamAuthException(TokenError(response) is { } error
                ? $"the token endpoint refused the client credentials (HTTP {(int)response.HttpStatusCode}): {error}"
                : response.HttpStatusCode == 0
                    ? $"the token endpoint could not be reached: {response.Exception?.GetType().Name ?? "no answer"}"
                    : $"the token endpoint answered HTTP {(int)response.HttpStatusCode} without a token");
        }
        // Without expires_in the token's life is unknown; an hour is the common default, refreshed at half-life.
        var lifetime = response.ExpiresIn > 0 ? TimeSpan.FromSeconds(response.ExpiresIn) : TimeSpan.FromHours(1);
        return new UpstreamToken(token, _time.GetUtcNow() + lifetime);
    }

    // An OAuth error answer (RFC 6749 §5.2) comes as 400 or, for a refused client, 401; either way its code says why.
    private static string? TokenError(TokenResponse response) =>
        response.Json is { ValueKind: System.Text.Json.JsonValueKind.Object } && response.TryGet("error") is { Length: > 0 } code
            ? code + (response.TryGet("error_description") is { Length: > 0 } description ? $" ({description})" : "")
            : null;
}

/// <summary>The gateway could not get a token for an upstream; the connection fails with this message, which names no secret.</summary>
internal sealed class UpstreamAuthException(string message) : Exception($"Upstream authentication failed: {message}.");
