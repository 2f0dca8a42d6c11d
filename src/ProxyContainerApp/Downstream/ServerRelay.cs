using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The message filter of a session opened on <c>/{name}/…</c>: requests for the upstream's features are relayed
/// as raw JSON (no typed re-serialization), <c>tools/list</c> is answered from the connection's cached,
/// filtered list, and a filtered tool cannot be called. <c>initialize</c> and <c>ping</c> stay with the SDK.
/// The upstream is looked up by name on each request, so an update that swaps the connection is seen at once.
/// </summary>
internal sealed class ServerRelay(string name, UpstreamManager upstreams, ILogger logger) : RelayFilter(logger)
{
    protected override string Target => name;

    protected override async Task<JsonNode?> RelayAsync(JsonRpcRequest request, McpServer caller, CancellationToken cancellationToken)
    {
        if (!upstreams.TryGet(name, out var upstream))
            throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{name}' is no longer registered.");

        if (request.Method == RequestMethods.ToolsList)
            return (upstream.Session ?? throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{name}' is not connected.")).ToolsResult;

        if (request.Method == RequestMethods.ToolsCall && request.Params?["name"].AsString() is { } tool && !upstream.ToolFilter.Allows(tool))
            throw new McpProtocolException($"Unknown tool: '{tool}'.", McpErrorCode.InvalidParams);

        return (await upstream.SendAsync(request.Method, request.Params, caller, cancellationToken)).Result;
    }
}
