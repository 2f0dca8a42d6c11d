using System.Text.Json.Serialization;

namespace McpServerless.Model;

/// <summary>
/// The credential the gateway presents to an HTTP upstream, as <c>Authorization: Bearer</c> on every request. Tokens
/// are fetched when the connection opens, cached, and fetched again before they expire. The gateway never forwards a
/// client's own token upstream (the MCP authorization spec forbids token passthrough): an upstream trusts the gateway,
/// and the gateway decides which clients may use it.
/// </summary>
public sealed record UpstreamAuth
{
    /// <summary>Required.</summary>
    public UpstreamAuthKind? Kind { get; init; }

    /// <summary>
    /// <see cref="UpstreamAuthKind.ManagedIdentity"/>: the scope to ask Entra ID for (required; <c>api://…/.default</c>).
    /// <see cref="UpstreamAuthKind.ClientCredentials"/>: space-separated scopes to ask for (optional).
    /// </summary>
    public string? Scope { get; init; }

    /// <summary>
    /// <see cref="UpstreamAuthKind.ManagedIdentity"/>: the client id of a user-assigned identity (optional; default the
    /// one in <c>AZURE_CLIENT_ID</c>). <see cref="UpstreamAuthKind.ClientCredentials"/>: the OAuth client id (required).
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary><see cref="UpstreamAuthKind.ClientCredentials"/>: the client secret (required); a secret like header values, never shown.</summary>
    public string? ClientSecret { get; init; }

    /// <summary><see cref="UpstreamAuthKind.ClientCredentials"/>: the authorization server's token endpoint (required; https, or http on loopback).</summary>
    public string? TokenUrl { get; init; }

    /// <summary><see cref="UpstreamAuthKind.ClientCredentials"/>: the RFC 8707 resource to ask a token for (optional; usually the upstream's URL).</summary>
    public string? Resource { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<UpstreamAuthKind>))]
public enum UpstreamAuthKind
{
    /// <summary>An Azure managed identity's token from Entra ID (Azure.Identity).</summary>
    [JsonStringEnumMemberName("managedIdentity")] ManagedIdentity,

    /// <summary>An OAuth 2.1 client-credentials token from any authorization server.</summary>
    [JsonStringEnumMemberName("clientCredentials")] ClientCredentials,
}
