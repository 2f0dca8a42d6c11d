using System.Text;

namespace McpServerless.Security.OAuth;

/// <summary>
/// A <c>WWW-Authenticate: Bearer</c> challenge (RFC 6750 §3) as MCP clients read it: where the protected resource
/// metadata is (RFC 9728 §5.1), which scopes to ask for, and why the token was refused. Every value is the gateway's
/// own text or a validated scope token, so nothing needs escaping.
/// </summary>
public sealed record BearerChallenge(string ResourceMetadata, string? Scope = null, string? Error = null, string? Description = null)
{
    /// <summary>The token was not a valid token for this resource (401).</summary>
    public const string InvalidToken = "invalid_token";

    /// <summary>The token is valid but lacks the scope or role asked for (403; the client may step up).</summary>
    public const string InsufficientScope = "insufficient_scope";

    /// <summary>The request is malformed, such as a token in the query string (400).</summary>
    public const string InvalidRequest = "invalid_request";

    public override string ToString()
    {
        var header = new StringBuilder("Bearer resource_metadata=\"").Append(ResourceMetadata).Append('"');
        if (Scope is not null) header.Append(", scope=\"").Append(Scope).Append('"');
        if (Error is not null) header.Append(", error=\"").Append(Error).Append('"');
        if (Description is not null) header.Append(", error_description=\"").Append(Description).Append('"');
        return header.ToString();
    }
}
