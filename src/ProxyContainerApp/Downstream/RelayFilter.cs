using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// A session's incoming-message filter that answers the relayed methods itself and leaves everything else
/// (<c>initialize</c>, <c>ping</c>, notifications) to the SDK. Every failure becomes a JSON-RPC error, and a
/// client's <c>notifications/cancelled</c> reaches the upstream call.
/// </summary>
internal abstract partial class RelayFilter(ILogger logger, StatelessBridge bridge, CallerIdentity identity)
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
                    await AnswerAsync(context, request, call.Token);
                return;
            case JsonRpcRequest { Method: RequestMethods.SubscriptionsListen } listen when context.Server.SessionId is null
                && ListenAsync(context.Server, listen, cancellationToken) is { } listening:
                await AnswerListenAsync(context, listen, listening, cancellationToken);
                return;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                _inFlight.Cancel(cancelled);
                break;
        }
        await next(context, cancellationToken);
    };

    /// <summary>Who opened the session: per-server rules are applied to it on every request.</summary>
    protected CallerIdentity Identity => identity;

    /// <summary>What the relay forwards to, for logs: a server name or the aggregate.</summary>
    protected abstract string Target { get; }

    /// <summary>The virtual server this relay serves, for telemetry; null for a server's endpoint or the aggregate.</summary>
    protected virtual string? VirtualServer => null;

    /// <summary>The caching hints this endpoint's answers may carry (2026-07-28 callers only).</summary>
    protected abstract CachePolicy Caching { get; }

    /// <summary>
    /// Produces the result of a relayed request for <paramref name="caller"/>, the session that sent it. The result is
    /// the caller's alone (2026-07-28 callers get it shaped in place), except that a 2025-11-25 caller may be handed a
    /// shared node, such as the cached tool list.
    /// </summary>
    protected abstract Task<JsonNode?> RelayAsync(JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken);

    /// <summary>
    /// Holds a stateless caller's <c>subscriptions/listen</c> open until it closes it; null leaves the request to the
    /// SDK's own handler, which grants nothing.
    /// </summary>
    protected virtual Task? ListenAsync(McpServer server, JsonRpcRequest request, CancellationToken cancellationToken) => null;

    /// <summary>
    /// Relays one request to one upstream: through the revision bridge when a stateless caller meets a session-based
    /// upstream (<see cref="StatelessBridge"/>), straight otherwise.
    /// </summary>
    protected async Task<JsonNode?> ForwardAsync(UpstreamConnection upstream, string method, JsonNode? parameters, DownstreamCaller caller, CancellationToken cancellationToken) =>
        StatelessBridge.Applies(method, caller, upstream)
            ? await bridge.RelayAsync(upstream, $"{Target}|{upstream.Name}", identity.Key, method, parameters, caller, cancellationToken)
            : (await upstream.SendAsync(method, parameters, caller, cancellationToken)).Result;

    // The filter's server is bound to the request's transport, so a streamable-HTTP reply lands on its POST.
    private async Task AnswerAsync(MessageContext context, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        LogRelaying(logger, request.Method, new SessionLogTag(context.Server.SessionId), Target);
        JsonRpcMessage reply;
        try
        {
            var result = await RelayAsync(request, new DownstreamCaller(context.Server, request, VirtualServer), cancellationToken);
            result = ResultShaper.SpeaksLatest(request, context.Server)
                ? ResultShaper.ForLatest(result, request.Method, Caching)
                : ResultShaper.ForEarlier(result);
            reply = new JsonRpcResponse { Id = request.Id, Result = result };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // The caller cancelled; MCP says no response follows.
        }
        catch (McpProtocolException ex)
        {
            var (code, data) = (ex.ErrorCode, ErrorData(ex));
            if (ResultShaper.SpeaksLatest(request, context.Server)) (code, data) = ResultShaper.ErrorForLatest(request, code, data);
            reply = Error(request, code, ex.Message, data);
        }
        catch (UpstreamException ex)
        {
            LogFailed(logger, request.Method, new SessionLogTag(context.Server.SessionId), Target, ex.Message);
            reply = Error(request, ex.Code, ex.Message);
        }
        // Not the request's token: the gateway may have cancelled it to end the stream.
        await context.Server.SendMessageAsync(reply, CancellationToken.None);
    }

    // A listen stream closed by its caller gets no answer; one the gateway ends gets an error saying why.
    private static async Task AnswerListenAsync(MessageContext context, JsonRpcRequest request, Task listening, CancellationToken cancellationToken)
    {
        JsonRpcError reply;
        try
        {
            await listening;
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (McpProtocolException ex)
        {
            reply = Error(request, ex.ErrorCode, ex.Message);
        }
        catch (UpstreamException ex)
        {
            reply = Error(request, ex.Code, ex.Message);
        }
        // Not the request's token: the gateway may have cancelled it to end the stream.
        await context.Server.SendMessageAsync(reply, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relaying {Method} from session {Session} to {McpName}")]
    private static partial void LogRelaying(ILogger logger, string method, SessionLogTag session, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} from session {Session} to {McpName} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string method, SessionLogTag session, string mcpName, string error);

    private static JsonRpcError Error(JsonRpcRequest request, McpErrorCode code, string message, JsonNode? data = null) =>
        new() { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message, Data = data } };

    /// <summary>
    /// The <c>data</c> of an upstream's JSON-RPC error, which the SDK client keeps as the exception's <see cref="Exception.Data"/>
    /// entries (strings, numbers and booleans as such, anything else as <see cref="System.Text.Json.JsonElement"/>); null when it sent none.
    /// </summary>
    private static JsonObject? ErrorData(McpProtocolException ex)
    {
        if (ex.Data.Count == 0) return null;
        var data = new JsonObject();
        foreach (System.Collections.DictionaryEntry entry in ex.Data)
        {
            if (entry.Key is not string key) continue;
            data[key] = entry.Value switch
            {
                System.Text.Json.JsonElement element => JsonNode.Parse(element.GetRawText()),
                string text => text,
                double number => number,
                bool flag => flag,
                _ => null,
            };
        }
        return data;
    }
}

/// <summary>
/// A session as logs name it: the first 8 hex digits of the SHA-256 of its id, enough to follow one session through a
/// log, computed only when a message is written. The id itself works as a credential, so it is never logged.
/// </summary>
internal readonly struct SessionLogTag(string? sessionId)
{
    public override string ToString() => sessionId is null ? "(stateless)"
        : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sessionId)))[..8];
}

/// <summary>Requests being relayed for one session, so a client's <c>notifications/cancelled</c> reaches the upstream call.</summary>
internal sealed class InFlightRequests
{
    private readonly ConcurrentDictionary<RequestId, CancellationTokenSource> _calls = new();

    public Call Begin(RequestId id, CancellationToken sessionToken)
    {
        var cancellation = LinkedCancellation.Start(sessionToken, Timeout.InfiniteTimeSpan);
        _calls[id] = cancellation.Source;
        return new Call(this, id, cancellation);
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
        // Taken out, so the call's end cannot pool the source while it is being cancelled.
        if (requestId is { } key && _calls.TryRemove(key, out var source)) source.Cancel();
    }

    public readonly struct Call(InFlightRequests owner, RequestId id, LinkedCancellation cancellation) : IDisposable
    {
        public CancellationToken Token => cancellation.Token;

        public void Dispose()
        {
            if (owner._calls.TryRemove(KeyValuePair.Create(id, cancellation.Source))) cancellation.Dispose();
            else cancellation.Abandon(); // cancelled by the client: it is not reused
        }
    }
}
