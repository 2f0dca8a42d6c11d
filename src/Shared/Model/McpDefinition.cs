using System.Text.Json.Serialization;
using McpServerless.Serialization;

namespace McpServerless.Model;

/// <summary>
/// A registered upstream MCP server: the same fields, names and JSON shape as the original
/// Go gateway's <c>MCPDefinition</c>. Durations are written as Go duration strings ("30s").
/// </summary>
public sealed record McpDefinition : IAccessControlled
{
    /// <summary>Unique name; also the first path segment of the server's proxy endpoints.</summary>
    public string Name { get; init; } = "";

    public string? Description { get; init; }

    /// <summary>Required; nullable so a missing value is reported with every other problem.</summary>
    public McpTransport? Transport { get; init; }

    // stdio
    public string? Command { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    public IReadOnlyDictionary<string, string>? Env { get; init; }

    // sse and streamable-http
    public string? Url { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Bounds connecting and each upstream request.</summary>
    [JsonConverter(typeof(GoDurationJsonConverter))]
    public TimeSpan? Timeout { get; init; }

    // security
    public IReadOnlyList<string>? AuthTokens { get; init; }

    [JsonPropertyName("allowedIPs")]
    public IReadOnlyList<string>? AllowedIps { get; init; }

    public bool RequireAuth { get; init; }

    /// <summary>
    /// Scopes an OAuth access token needs for this server (all of them), instead of <c>McpProxy:OAuth:RequiredScopes</c>.
    /// Not in the original gateway.
    /// </summary>
    public IReadOnlyList<string>? RequiredScopes { get; init; }

    /// <summary>App roles, any one of which admits an OAuth access token here, instead of <c>McpProxy:OAuth:RequiredRoles</c>. Not in the original gateway.</summary>
    public IReadOnlyList<string>? RequiredRoles { get; init; }

    /// <summary>
    /// How the gateway authenticates itself to an HTTP upstream, besides <see cref="Headers"/>: a managed identity or
    /// OAuth client credentials. A client's own token is never passed upstream. Not in the original gateway.
    /// </summary>
    public UpstreamAuth? UpstreamAuth { get; init; }

    // behaviour
    public bool AutoReconnect { get; init; }

    /// <summary>Reconnect attempts before giving up; 0 means unlimited.</summary>
    public int MaxReconnects { get; init; }

    [JsonConverter(typeof(GoDurationJsonConverter))]
    public TimeSpan? ReconnectDelay { get; init; }

    public bool HealthCheckEnabled { get; init; }

    [JsonConverter(typeof(GoDurationJsonConverter))]
    public TimeSpan? HealthCheckInterval { get; init; }

    public ToolFilter? ToolFilter { get; init; }

    /// <summary>Largest single message taken from this server, in bytes; overrides <c>McpProxy:Limits:MaxResponseBytes</c>.</summary>
    public long? MaxResponseBytes { get; init; }

    /// <summary>
    /// Gives each downstream session on <c>/{name}/…</c> its own upstream connection (its own stdio process or
    /// upstream HTTP session), opened with the session and closed with it, for servers that keep state per client.
    /// By default every session shares one connection. Not in the original gateway.
    /// </summary>
    public bool IsolateSessions { get; init; }

    /// <summary>
    /// How long 2026-07-28 clients may cache this server's <c>tools/list</c> answer (its <c>ttlMs</c>); the gateway
    /// answers it from its own list, refreshed on <c>notifications/tools/list_changed</c>. Default one minute; 0
    /// means re-list every time. Not in the original gateway.
    /// </summary>
    [JsonConverter(typeof(GoDurationJsonConverter))]
    public TimeSpan? ToolsCacheTtl { get; init; }

    /// <summary>
    /// The MCP revision the gateway speaks to this server (one of <see cref="McpRevisions.Known"/>). By default the
    /// newest both sides support: the gateway asks <c>server/discover</c> and falls back to <c>initialize</c>. Pin it
    /// for a server that answers the discovery probe badly, or to keep a server on its session-based revision. Not in
    /// the original gateway.
    /// </summary>
    public string? ProtocolVersion { get; init; }
}

/// <summary>The MCP revisions (dates, which order as text) the gateway can speak to an upstream.</summary>
public static class McpRevisions
{
    /// <summary>The first stateless revision: no sessions, per-request metadata, input-required results.</summary>
    public const string Stateless = "2026-07-28";

    public static readonly IReadOnlyList<string> Known = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", Stateless];

    /// <summary>Whether <paramref name="version"/> is 2026-07-28 or later.</summary>
    public static bool IsStateless(string? version) => version is not null && string.CompareOrdinal(version, Stateless) >= 0;
}
