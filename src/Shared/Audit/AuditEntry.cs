using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using McpServerless.Security;

namespace McpServerless.Audit;

/// <summary>
/// One audited call: a relayed <c>tools/call</c>, <c>prompts/get</c> or <c>resources/read</c>, or an admin change. A
/// struct, so recording one on the proxy path allocates nothing beyond what the caller already holds. Argument
/// values appear only when <see cref="AuditOptions.IncludeArguments"/> is set, and then redacted.
/// </summary>
public readonly record struct AuditEntry
{
    /// <summary>When the call arrived.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The <see cref="Configuration.McpProxyOptions.InstanceId"/> of the replica that served it; set by <see cref="AuditLog"/>.</summary>
    public string? Replica { get; init; }

    public required AuditCaller Caller { get; init; }

    /// <summary>Where the call came in: <see cref="AuditRoutes"/>.</summary>
    public required string Route { get; init; }

    /// <summary>The upstream server (or, for an admin change, the server or virtual server changed); null when none was resolved.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Server { get; init; }

    /// <summary>The MCP method (<c>tools/call</c>), or the admin change (<c>mcps/create</c>).</summary>
    public required string Method { get; init; }

    /// <summary>The tool or prompt name, or the resource URI.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Tool { get; init; }

    /// <summary>See <see cref="AuditOutcomes"/>.</summary>
    public required string Outcome { get; init; }

    public double DurationMs { get; init; }

    public long RequestBytes { get; init; }

    public long ResponseBytes { get; init; }

    /// <summary>The call's arguments with secrets masked, only when <see cref="AuditOptions.IncludeArguments"/> is set.</summary>
    public JsonElement? Arguments { get; init; }
}

/// <summary>Who made a call. Built once per session or request, and shared by every entry it leaves.</summary>
public sealed record AuditCaller
{
    /// <summary>The <see cref="TokenSet.Fingerprint"/> of the bearer token the caller sent; null without one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Token { get; init; }

    /// <summary>The authenticated principal (an OAuth subject) when the caller has one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Principal { get; init; }

    /// <summary>The client address, as resolved behind trusted proxies.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Ip { get; init; }

    public static AuditCaller Anonymous { get; } = new();

    public static AuditCaller From(IPAddress? address, ReadOnlySpan<char> bearerToken, string? principal = null) => new()
    {
        Token = bearerToken.IsEmpty ? null : TokenSet.Fingerprint(bearerToken),
        Principal = principal,
        Ip = address?.ToString(),
    };

    /// <summary>The <c>caller=</c> filter: a token fingerprint, a principal or an address, exactly.</summary>
    public bool Matches(string value) =>
        string.Equals(Token, value, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Principal, value, StringComparison.Ordinal)
        || string.Equals(Ip, value, StringComparison.Ordinal);
}

/// <summary>The routes an entry can come in by.</summary>
public static class AuditRoutes
{
    /// <summary><c>/{name}/stream</c> or <c>/{name}/sse</c>.</summary>
    public const string Server = "server";

    /// <summary><c>/mcp</c> or <c>/sse</c>.</summary>
    public const string Aggregated = "aggregated";

    /// <summary>The admin API.</summary>
    public const string Admin = "admin";

    /// <summary>A virtual server's route names it: <c>virtual:{name}</c>. Cache the result per virtual server.</summary>
    public static string Virtual(string name) => "virtual:" + name;
}

/// <summary>The methods that leave entries. Relayed MCP methods keep their names; admin changes are named <c>{resource}/{verb}</c>.</summary>
public static class AuditMethods
{
    public const string ToolsCall = "tools/call";
    public const string PromptsGet = "prompts/get";
    public const string ResourcesRead = "resources/read";
    public const string CreateServer = "mcps/create";
    public const string UpdateServer = "mcps/update";
    public const string DeleteServer = "mcps/delete";
    public const string CreateVirtualServer = "virtual-servers/create";
    public const string UpdateVirtualServer = "virtual-servers/update";
    public const string DeleteVirtualServer = "virtual-servers/delete";

    /// <summary>True for the relayed methods that are audited.</summary>
    public static bool IsAudited(string method) => method is ToolsCall or PromptsGet or ResourcesRead;
}

/// <summary>How a call ended.</summary>
public static class AuditOutcomes
{
    public const string Ok = "ok";

    /// <summary>The tool answered with <c>isError: true</c>.</summary>
    public const string ToolError = "tool_error";

    /// <summary>The upstream did not answer within the server's timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>The gateway refused the call (access, filter, limits); on the admin API, a 401 or 403.</summary>
    public const string Refused = "refused";

    /// <summary>The caller cancelled the call before it ended.</summary>
    public const string Cancelled = "cancelled";

    /// <summary><see cref="ToolError"/> for a result with <c>isError: true</c>, else <see cref="Ok"/>.</summary>
    public static string Of(JsonNode? result) =>
        result is JsonObject obj && obj.TryGetPropertyValue("isError", out var isError)
            && isError is JsonValue value && value.GetValueKind() == JsonValueKind.True
            ? ToolError
            : Ok;

    /// <summary>A JSON-RPC error code as the outcome (<c>"-32602"</c>); the standard codes without allocating.</summary>
    public static string Of(int jsonRpcErrorCode) => jsonRpcErrorCode switch
    {
        -32700 => "-32700",
        -32600 => "-32600",
        -32601 => "-32601",
        -32602 => "-32602",
        -32603 => "-32603",
        -32002 => "-32002", // MCP: resource not found
        _ => jsonRpcErrorCode.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>An admin answer: <see cref="Ok"/> below 400, <see cref="Refused"/> for 401 and 403, else the status (<c>"409"</c>).</summary>
    public static string OfHttpStatus(int statusCode) => statusCode switch
    {
        < 400 => Ok,
        401 or 403 => Refused,
        _ => statusCode.ToString(CultureInfo.InvariantCulture),
    };
}
