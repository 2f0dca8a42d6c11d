using System.Text.Json.Nodes;

namespace McpServerless.Proxy;

internal static class JsonNodeExtensions
{
    /// <summary>The node's string value, or null when it is absent or not a string (peers' JSON is not trusted to be well-typed).</summary>
    public static string? AsString(this JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;
}
