using System.Collections.Concurrent;
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
internal sealed class ServerRelay(string name, UpstreamManager upstreams)
{
    public static readonly IReadOnlySet<string> RelayedMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        RequestMethods.ToolsList, RequestMethods.ToolsCall,
        RequestMethods.PromptsList, RequestMethods.PromptsGet,
        RequestMethods.ResourcesList, RequestMethods.ResourcesTemplatesList, RequestMethods.ResourcesRead,
        RequestMethods.ResourcesSubscribe, RequestMethods.ResourcesUnsubscribe,
        RequestMethods.CompletionComplete,
        "logging/setLevel", // deprecated in 2026-07-28, still sent by clients of earlier revisions
    };

    private readonly InFlightRequests _inFlight = new();

    public McpMessageHandler Filter(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        switch (context.JsonRpcMessage)
        {
            case JsonRpcRequest request when RelayedMethods.Contains(request.Method):
                using (var call = _inFlight.Begin(request.Id, cancellationToken))
                    await RelayResponses.AnswerAsync(context, request, ct => RelayAsync(request, context.Server, ct), call.Token);
                return;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                _inFlight.Cancel(cancelled);
                break;
        }
        await next(context, cancellationToken);
    };

    private async Task<JsonNode?> RelayAsync(JsonRpcRequest request, McpServer caller, CancellationToken cancellationToken)
    {
        if (!upstreams.TryGet(name, out var upstream))
            throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{name}' is no longer registered.");

        if (request.Method == RequestMethods.ToolsList)
            return (upstream.Session ?? throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{name}' is not connected.")).ToolsResult;

        if (request.Method == RequestMethods.ToolsCall && request.Params?["name"]?.GetValue<string>() is { } tool && !upstream.ToolFilter.Allows(tool))
            throw new McpProtocolException($"Unknown tool: '{tool}'.", McpErrorCode.InvalidParams);

        return (await upstream.SendAsync(request.Method, request.Params, caller, cancellationToken)).Result;
    }
}

/// <summary>Requests being relayed for one session, so a client's <c>notifications/cancelled</c> reaches the upstream call.</summary>
internal sealed class InFlightRequests
{
    private readonly ConcurrentDictionary<RequestId, CancellationTokenSource> _calls = new();

    public Call Begin(RequestId id, CancellationToken sessionToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(sessionToken);
        _calls[id] = source;
        return new Call(this, id, source);
    }

    public void Cancel(JsonRpcNotification cancelled)
    {
        var id = cancelled.Params?["requestId"];
        RequestId? requestId = id?.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => new RequestId(id.GetValue<string>()),
            System.Text.Json.JsonValueKind.Number => new RequestId(id.GetValue<long>()),
            _ => null,
        };
        if (requestId is { } key && _calls.TryGetValue(key, out var source)) source.Cancel();
    }

    public readonly struct Call(InFlightRequests owner, RequestId id, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;

        public void Dispose()
        {
            owner._calls.TryRemove(KeyValuePair.Create(id, source));
            source.Dispose();
        }
    }
}
