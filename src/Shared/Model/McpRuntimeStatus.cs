using System.Text.Json.Serialization;

namespace McpServerless.Model;

/// <summary>The life-cycle state of the gateway's connection to one upstream server.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConnectionState>))]
public enum ConnectionState
{
    [JsonStringEnumMemberName("disconnected")] Disconnected,
    [JsonStringEnumMemberName("connecting")] Connecting,
    [JsonStringEnumMemberName("connected")] Connected,
    [JsonStringEnumMemberName("error")] Error,
}

/// <summary>What a gateway instance knows of its connection to one upstream server.</summary>
public sealed record McpRuntimeStatus
{
    public required string Name { get; init; }

    public ConnectionState State { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? ConnectedSince { get; init; }

    public int ReconnectAttempts { get; init; }

    public int ToolCount { get; init; }

    public DateTimeOffset? LastHealthCheck { get; init; }

    public bool? Healthy { get; init; }

    /// <summary>The gateway instance that reported this status.</summary>
    public string? Instance { get; init; }

    /// <summary>When the instance reported it; lets readers judge its age.</summary>
    public DateTimeOffset ReportedAt { get; init; }

    public static McpRuntimeStatus NotConnected(string name, DateTimeOffset now) =>
        new() { Name = name, State = ConnectionState.Disconnected, ReportedAt = now };
}

/// <summary>A tool as the gateway exposes it, with the server it comes from.</summary>
public sealed record ToolInfo
{
    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>The tool's JSON Schema, passed through untouched.</summary>
    public System.Text.Json.JsonElement? InputSchema { get; init; }

    [JsonPropertyName("mcpName")]
    public required string McpName { get; init; }

    /// <summary>The server's own name for the tool, when a virtual server lists it (maybe renamed); null elsewhere.</summary>
    public string? UpstreamName { get; init; }
}
