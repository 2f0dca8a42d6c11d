using System.Text.Json.Serialization;

namespace McpServerless.Model;

/// <summary>
/// A virtual server: one endpoint (<c>/{name}/stream</c>, <c>/{name}/sse</c>) that exposes a chosen set of the tools,
/// prompts and resources of registered servers, under its own access rules. Servers and virtual servers share one
/// namespace. Members are chosen by <see cref="MemberSelector"/>s (<c>server:tool</c>, the part after the colon a
/// glob); a selector may name a server that is not registered yet, and then selects nothing until it is.
/// </summary>
public sealed record VirtualServerDefinition : IAccessControlled
{
    /// <summary>Unique among servers and virtual servers; the first path segment of the endpoints.</summary>
    public string Name { get; init; } = "";

    public string? Description { get; init; }

    /// <summary><c>server:tool</c> selectors; the tool part may be a glob (<c>fs:read_*</c>).</summary>
    public IReadOnlyList<string>? Tools { get; init; }

    /// <summary><c>server:prompt</c> selectors; the prompt part may be a glob.</summary>
    public IReadOnlyList<string>? Prompts { get; init; }

    /// <summary><c>server:uri</c> selectors; the URI part may be a glob, which also matches resource templates.</summary>
    public IReadOnlyList<string>? Resources { get; init; }

    /// <summary>
    /// Per member, keyed by its exact <c>server:name</c> (<c>server:uri</c> for a resource): the name and description
    /// it is exposed under. A resource keeps its URI (clients read it by that), so only its description is replaced.
    /// </summary>
    public IReadOnlyDictionary<string, MemberOverride>? Overrides { get; init; }

    // security, as on a server
    public IReadOnlyList<string>? AuthTokens { get; init; }

    [JsonPropertyName("allowedIPs")]
    public IReadOnlyList<string>? AllowedIps { get; init; }

    public bool RequireAuth { get; init; }

    /// <summary>Scopes an OAuth access token needs here (all of them), instead of <c>McpProxy:OAuth:RequiredScopes</c>.</summary>
    public IReadOnlyList<string>? RequiredScopes { get; init; }

    /// <summary>App roles, any one of which admits an OAuth access token here, instead of <c>McpProxy:OAuth:RequiredRoles</c>.</summary>
    public IReadOnlyList<string>? RequiredRoles { get; init; }
}

/// <summary>How one member of a virtual server is shown there; null keeps what its server says.</summary>
public sealed record MemberOverride
{
    public string? Name { get; init; }

    public string? Description { get; init; }
}

/// <summary>The two kinds of registry entry, which share one namespace of names.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RegistryEntryType>))]
public enum RegistryEntryType
{
    [JsonStringEnumMemberName("server")] Server,
    [JsonStringEnumMemberName("virtual-server")] VirtualServer,
}
