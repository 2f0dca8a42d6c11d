using System.Text.Json.Serialization;

namespace McpServerless.Model;

/// <summary>How the gateway talks to an upstream MCP server.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<McpTransport>))]
public enum McpTransport
{
    /// <summary>A local child process speaking JSON-RPC over stdin/stdout.</summary>
    [JsonStringEnumMemberName("stdio")] Stdio,

    /// <summary>The legacy HTTP+SSE transport (MCP 2024-11-05).</summary>
    [JsonStringEnumMemberName("sse")] Sse,

    /// <summary>The streamable HTTP transport (MCP 2025-03-26 and later).</summary>
    [JsonStringEnumMemberName("streamable-http")] StreamableHttp,
}
