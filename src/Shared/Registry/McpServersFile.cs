using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Serialization;

namespace McpServerless.Registry;

/// <summary>
/// The <c>{"mcpServers": {"name": {...}}}</c> file that MCP clients (Claude Desktop, Cursor, VS Code)
/// use. An entry with <c>command</c> is stdio; one with <c>url</c> is streamable-http unless its
/// <c>type</c>/<c>transport</c> says "sse" (or its URL ends in <c>/sse</c>). Any field of
/// <see cref="McpDefinition"/> may also appear. Preloaded servers reconnect and are health-checked
/// unless the entry says otherwise, since nobody is watching them at start.
/// <para>
/// Beside it, the gateway's own <c>"virtualServers": {"name": {...}}</c> holds virtual servers in their admin API
/// shape (<see cref="VirtualServerDefinition"/>, the key giving the name). Either object may be left out; a name may
/// not appear in both, since servers and virtual servers share one namespace.
/// </para>
/// </summary>
public sealed record McpServersFile(IReadOnlyList<McpDefinition> Servers, IReadOnlyList<VirtualServerDefinition> VirtualServers)
{
    /// <exception cref="FormatException">The file is not in that format; the message says where.</exception>
    public static McpServersFile Parse(string json)
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
        var servers = Section(root, "mcpServers");
        var virtualServers = Section(root, "virtualServers");
        if (servers is null && virtualServers is null)
            throw new FormatException("The servers file must be an object with an \"mcpServers\" or a \"virtualServers\" object.");

        var definitions = Entries(servers, "mcpServers").Select(e => ParseEntry(e.Name, e.Entry)).ToList();
        var virtualDefinitions = Entries(virtualServers, "virtualServers").Select(e => ParseVirtualEntry(e.Name, e.Entry)).ToList();
        if (definitions.Select(d => d.Name).Intersect(virtualDefinitions.Select(d => d.Name), StringComparer.Ordinal).FirstOrDefault() is { } both)
            throw new FormatException($"'{both}' is in both mcpServers and virtualServers; servers and virtual servers share one namespace.");
        return new McpServersFile(definitions, virtualDefinitions);
    }

    private static JsonObject? Section(JsonNode? root, string key) => root switch
    {
        JsonObject file when file[key] is JsonObject section => section,
        JsonObject file when file.ContainsKey(key) => throw new FormatException($"\"{key}\" must be an object."),
        _ => null,
    };

    private static IEnumerable<(string Name, JsonObject Entry)> Entries(JsonObject? section, string key) =>
        (section ?? []).Select(p => p.Value is JsonObject entry
            ? (p.Key, (JsonObject)entry.DeepClone())
            : throw new FormatException($"{key}.{p.Key} must be an object."));

    private static VirtualServerDefinition ParseVirtualEntry(string name, JsonObject entry)
    {
        try
        {
            return entry.Deserialize(GatewayJson.Default.VirtualServerDefinition)! with { Name = name };
        }
        catch (JsonException ex)
        {
            throw new FormatException($"virtualServers.{name}: {ex.Message}", ex);
        }
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
