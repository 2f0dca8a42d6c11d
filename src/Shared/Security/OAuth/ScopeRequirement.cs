namespace McpServerless.Security.OAuth;

/// <summary>
/// What an OAuth token must carry to use something: every one of <see cref="Scopes"/> (a user's delegated token), or
/// any one of <see cref="Roles"/> (app roles: what an app-only, client-credentials token carries, and what a user
/// assigned to a role carries). With both, either suffices; with neither, any valid token does.
/// </summary>
public sealed class ScopeRequirement
{
    public ScopeRequirement(IEnumerable<string>? scopes, IEnumerable<string>? roles)
    {
        Scopes = [.. (scopes ?? []).Distinct(StringComparer.Ordinal)];
        Roles = [.. (roles ?? []).Distinct(StringComparer.Ordinal)];
        ChallengeScope = Scopes.Count == 0 ? null : string.Join(' ', Scopes);
    }

    public static ScopeRequirement None { get; } = new(null, null);

    /// <summary>A definition's own requirement, or null when it names none (the configured defaults then apply).</summary>
    public static ScopeRequirement? From(IReadOnlyList<string>? scopes, IReadOnlyList<string>? roles) =>
        scopes is { Count: > 0 } || roles is { Count: > 0 } ? new(scopes, roles) : null;

    public IReadOnlyList<string> Scopes { get; }

    public IReadOnlyList<string> Roles { get; }

    public bool IsEmpty => Scopes.Count == 0 && Roles.Count == 0;

    /// <summary>The <c>scope</c> of a challenge: what a client asks its authorization server for to satisfy this requirement.</summary>
    public string? ChallengeScope { get; }

    public bool IsMetBy(OAuthPrincipal caller)
    {
        if (IsEmpty) return true;
        if (Scopes.Count > 0 && Scopes.All(caller.HasScope)) return true;
        foreach (var role in Roles)
        {
            if (caller.HasRole(role)) return true;
        }
        return false;
    }

    /// <summary>Why a token falls short, for the refusal's detail; names what is needed, never what the token holds.</summary>
    public string Describe() => (Scopes.Count, Roles.Count) switch
    {
        (> 0, 0) => $"The token lacks a required scope: {ChallengeScope}.",
        (0, _) => $"The token carries none of the required app roles: {string.Join(", ", Roles)}.",
        _ => $"The token needs the scopes {ChallengeScope} or one of the app roles {string.Join(", ", Roles)}.",
    };
}
