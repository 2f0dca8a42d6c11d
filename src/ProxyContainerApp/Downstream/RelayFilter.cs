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
internal abstract partial class RelayFilter(ILogger logger)
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
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                _inFlight.Cancel(cancelled);
                break;
        }
        await next(context, cancellationToken);
    };

    /// <summary>What the relay forwards to, for logs: a server name or the aggregate.</summary>
    protected abstract string Target { get; }

    /// <summary>Produces the result of a relayed request for <paramref name="caller"/>, the session that sent it.</summary>
    protected abstract Task<JsonNode?> RelayAsync(JsonRpcRequest request, McpServer caller, CancellationToken cancellationToken);

    // The filter's server is bound to the request's transport, so a streamable-HTTP reply lands on its POST.
    private async Task AnswerAsync(MessageContext context, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        LogRelaying(logger, request.Method, new SessionLogTag(context.Server.SessionId), Target);
        JsonRpcMessage reply;
        try
        {
            reply = new JsonRpcResponse { Id = request.Id, Result = await RelayAsync(request, context.Server, cancellationToken) };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // The caller cancelled; MCP says no response follows.
        }
        catch (McpProtocolException ex)
        {
            reply = Error(request, ex.ErrorCode, ex.Message);
        }
        catch (UpstreamException ex)
        {
            LogFailed(logger, request.Method, new SessionLogTag(context.Server.SessionId), Target, ex.Message);
            reply = Error(request, ex.Code, ex.Message);
        }
        await context.Server.SendMessageAsync(reply, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relaying {Method} from session {Session} to {McpName}")]
    private static partial void LogRelaying(ILogger logger, string method, SessionLogTag session, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} from session {Session} to {McpName} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string method, SessionLogTag session, string mcpName, string error);

    private static JsonRpcError Error(JsonRpcRequest request, McpErrorCode code, string message) =>
        new() { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } };
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
