using System.Security.Claims;

namespace McpServerless.Security.OAuth;

/// <summary>
/// A caller whose access token passed validation, with its scopes and app roles parsed once. It becomes
/// <c>HttpContext.User</c>, so the MCP SDK binds a session to its subject and hands it to every message of the session
/// (<c>JsonRpcMessageContext.User</c>), where per-server checks read it without parsing the token again.
/// </summary>
public sealed class OAuthPrincipal : ClaimsPrincipal
{
    private readonly HashSet<string> _scopes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _roles = new(StringComparer.Ordinal);

    /// <param name="validated">The principal JwtBearer built from the token, with the token's own claim names.</param>
    public OAuthPrincipal(ClaimsPrincipal validated) : base(validated)
    {
        foreach (var claim in Claims)
        {
            switch (claim.Type)
            {
                // RFC 9068 "scope" is one space-separated string; Entra ID writes "scp", the same way or as an array.
                case "scope" or "scp":
                    _scopes.UnionWith(claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "roles":
                    _roles.Add(claim.Value);
                    break;
            }
        }
        Subject = FindFirst("sub")?.Value ?? "";
        Issuer = FindFirst("iss")?.Value ?? "";
        ClientId = FindFirst("client_id")?.Value ?? FindFirst("azp")?.Value ?? FindFirst("appid")?.Value;
        if (long.TryParse(FindFirst("exp")?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var exp))
            ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(exp);
    }

    public string Subject { get; }

    /// <summary>When the token expires (its <c>exp</c>).</summary>
    public DateTimeOffset? ExpiresAt { get; }

    public string Issuer { get; }

    /// <summary>The OAuth client the token was issued to, when the token says.</summary>
    public string? ClientId { get; }

    /// <summary>How logs and the audit log name the caller: its subject (an OAuth subject, never a token).</summary>
    public string Name => ClientId is { } client && client != Subject ? $"{Subject} (client {client})" : Subject;

    public IReadOnlyCollection<string> Scopes => _scopes;

    /// <summary>
    /// Whether the token grants <paramref name="scope"/>. A scope written as a URI (<c>api://gateway/mcp.access</c>, the
    /// form Entra ID clients request) is also granted by its last segment, which is how the token names it.
    /// </summary>
    public bool HasScope(string scope)
    {
        if (_scopes.Contains(scope)) return true;
        var slash = scope.LastIndexOf('/');
        return slash >= 0 && slash < scope.Length - 1 && _scopes.Contains(scope[(slash + 1)..]);
    }

    public bool HasRole(string role) => _roles.Contains(role);
}
