using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>What a live upstream offers; replaced whole on reconnect or tools/list_changed, so readers never lock.</summary>
public sealed record UpstreamSession(McpClient Client, Implementation? ServerInfo, ServerCapabilities Capabilities, string? Instructions, IReadOnlyList<Tool> Tools)
{
    // Kept with the list it was made from: a copy made `with { Tools = ... }` after list_changed must not serve the old one.
    private ToolsListing? _toolsResult;
    private string? _sessionTag;

    /// <summary>
    /// The upstream speaks 2026-07-28: it is called statelessly, answers with input-required results instead of asking
    /// during a call, and tells changes only on a <c>subscriptions/listen</c> stream.
    /// </summary>
    public bool IsStateless { get; } = McpRevisions.IsStateless(Client.NegotiatedProtocolVersion);

    /// <summary>The stream a 2026-07-28 upstream sends its change notifications on; null for a session upstream.</summary>
    internal UpstreamListen? Listen { get; init; }

    /// <summary>The <c>tools/list</c> result, serialized once per tool set: listing never goes upstream.</summary>
    public JsonNode ToolsResult => (_toolsResult is { } cached && ReferenceEquals(cached.Tools, Tools) ? cached : _toolsResult = new(Tools)).Result;

    /// <summary>The <c>mcp.session.id</c> of this upstream session: a hash of its <c>Mcp-Session-Id</c>, computed once; null over stdio.</summary>
    internal string? SessionTag => Client.SessionId is { } id ? _sessionTag ??= SessionTags.Hash(id) : null;

    /// <summary>The tools <paramref name="client"/>'s server offers that <paramref name="filter"/> lets through.</summary>
    public static async Task<IReadOnlyList<Tool>> ListToolsAsync(McpClient client, ToolFilterMatcher filter, CancellationToken cancellationToken)
    {
        if (client.ServerCapabilities.Tools is null) return [];
        var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        return [.. tools.Select(t => t.ProtocolTool).Where(t => filter.Allows(t.Name))];
    }

    private sealed class ToolsListing(IReadOnlyList<Tool> tools)
    {
        public IReadOnlyList<Tool> Tools { get; } = tools;

        public JsonNode Result { get; } = JsonSerializer.SerializeToNode(
            new ListToolsResult { Tools = [.. tools] }, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ListToolsResult)))!;
    }
}
