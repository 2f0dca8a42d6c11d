using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Serialization;

namespace McpServerless.Registry;

/// <summary>
/// Reads the <c>{"mcpServers": {"name": {...}}}</c> file that MCP clients (Claude Desktop, Cursor, VS Code)
/// use. An entry with <c>command</c> is stdio; one with <c>url</c> is streamable-http unless its
/// <c>type</c>/<c>transport</c> says "sse" (or its URL ends in <c>/sse</c>). Any field of
/// <see cref="McpDefinition"/> may also appear. Preloaded servers reconnect and are health-checked
/// unless the entry says otherwise, since nobody is watching them at start.
/// </summary>
public static class McpServersFile
{
    /// <exception cref="FormatException">The file is not in that format; the message says where.</exception>
    public static IReadOnlyList<McpDefinition> Parse(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The servers file is not valid JSON: {ex.Message}", ex);
        }
        if (root?["mcpServers"] is not JsonObject servers)
            throw new FormatException("The servers file must be an object with an \"mcpServers\" object.");

        var definitions = new List<McpDefinition>();
        foreach (var (name, node) in servers)
        {
            if (node is not JsonObject entry) throw new FormatException($"mcpServers.{name} must be an object.");
            definitions.Add(ParseEntry(name, (JsonObject)entry.DeepClone()));
        }
        return definitions;
    }

    private static McpDefinition ParseEntry(string name, JsonObject entry)
    {
        var declared = (TakeString(entry, "type") ?? TakeString(entry, "transport"))?.ToLowerInvariant();
        var transport = declared switch
        {
            "stdio" => McpTransport.Stdio,
            "sse" => McpTransport.Sse,
            "http" or "streamable-http" or "streamablehttp" or "streamable_http" => McpTransport.StreamableHttp,
            null when entry.ContainsKey("command") => McpTransport.Stdio,
            null when entry["url"]?.GetValue<string>() is { } url => url.TrimEnd('/').EndsWith("/sse", StringComparison.OrdinalIgnoreCase) ? McpTransport.Sse : McpTransport.StreamableHttp,
            _ => throw new FormatException($"mcpServers.{name}: set \"command\", \"url\" or a known \"type\" (stdio, sse, http)."),
        };

        McpDefinition definition;
        try
        {
            definition = entry.Deserialize(GatewayJson.Default.McpDefinition)!;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"mcpServers.{name}: {ex.Message}", ex);
        }
        return definition with
        {
            Name = name,
            Transport = transport,
            AutoReconnect = entry.ContainsKey("autoReconnect") ? definition.AutoReconnect : true,
            HealthCheckEnabled = entry.ContainsKey("healthCheckEnabled") ? definition.HealthCheckEnabled : true,
        };
    }

    private static string? TakeString(JsonObject entry, string key)
    {
        if (!entry.Remove(key, out var node) || node is null) return null;
        return node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw new FormatException($"\"{key}\" must be a string.");
    }
}
