namespace McpServerless.Model;

/// <summary>
/// The access fields a server and a virtual server share, so they are validated (<c>McpDefinitionValidator</c>) and
/// compiled (<c>McpAccessRule.From</c>) in one place and cannot drift apart.
/// </summary>
public interface IAccessControlled
{
    IReadOnlyList<string>? AuthTokens { get; }

    IReadOnlyList<string>? AllowedIps { get; }

    bool RequireAuth { get; }

    IReadOnlyList<string>? RequiredScopes { get; }

    IReadOnlyList<string>? RequiredRoles { get; }
}
