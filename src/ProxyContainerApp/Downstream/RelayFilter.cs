using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// A session's incoming-message filter that answers the relayed methods itself and leaves everything else
/// (<c>initialize</c>, <c>ping</c>, notifications) to the SDK. Every failure becomes a JSON-RPC error, and a
/// client's <c>notifications/cancelled</c> reaches the upstream call. Every request and notification is measured here
/// (a SERVER span and <c>mcp.server.operation.duration</c>), and every <c>tools/call</c>, <c>prompts/get</c> and
/// <c>resources/read</c> leaves an audit entry, whatever its outcome.
/// </summary>
/// <param name="route">Where the session came in; its <see cref="McpPeer.Server"/> is the server a per-server route names.</param>
/// <param name="identity">Who opened the session.</param>
internal abstract partial class RelayFilter(RelayServices services, McpPeer route, CallerIdentity identity)
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
    private readonly string? _clientAddress = identity.Address?.ToString();
    private AuditCaller? _auditCaller;
    private string? _sessionTag;

    public McpMessageHandler Filter(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        switch (context.JsonRpcMessage)
        {
            case JsonRpcRequest request when RelayedMethods.Contains(request.Method):
                using (var call = _inFlight.Begin(request.Id, cancellationToken))
                    await AnswerAsync(context, request, call.Token);
                return;
            case JsonRpcRequest { Method: RequestMethods.SubscriptionsListen } listen when context.Server.SessionId is null:
                await ListenAsync(context, listen, cancellationToken);
                return;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                _inFlight.Cancel(cancelled);
                break;
        }
        if (context.JsonRpcMessage is JsonRpcRequest or JsonRpcNotification) await PassMeasuredAsync(next, context, cancellationToken);
        else await next(context, cancellationToken);
    };

    /// <summary>Who opened the session: per-server rules are applied to it on every request.</summary>
    protected CallerIdentity Identity => identity;

    /// <summary>A session's own connections to <c>isolateSessions</c> servers, where the relay routes to several servers; null otherwise.</summary>
    public SessionConnections? Own { get; set; }

    /// <summary>What the relay forwards to, for logs: a server name or the aggregate.</summary>
    protected abstract string Target { get; }

    /// <summary>The caching hints this endpoint's answers may carry (2026-07-28 callers only).</summary>
    protected abstract CachePolicy Caching { get; }

    /// <summary>The audit log's name for this route (<see cref="AuditRoutes"/>).</summary>
    protected abstract string AuditRoute { get; }

    /// <summary>
    /// Produces the result of a relayed request for <paramref name="caller"/>, the session that sent it. The result is
    /// the caller's alone (2026-07-28 callers get it shaped in place), except that a 2025-11-25 caller may be handed a
    /// shared node, such as the cached tool list. Sends go through <see cref="ForwardAsync"/>, which notes the server a
    /// call went to.
    /// </summary>
    protected abstract Task<JsonNode?> RelayAsync(JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken);

    /// <summary>What a stateless caller's <c>subscriptions/listen</c> on this endpoint hears of (<see cref="ListenStreams"/>).</summary>
    protected abstract ListenScope Listening { get; }

    /// <summary>
    /// Relays one request to one upstream (the session's own connection to it, if it has one): a session's resource
    /// subscription to the upstream's
    /// <see cref="ResourceSubscriptions"/>, through the revision bridge when a stateless caller meets a session-based
    /// upstream (<see cref="StatelessBridge"/>), straight otherwise. The caller notes the upstream, for telemetry and audit.
    /// </summary>
    protected async Task<JsonNode?> ForwardAsync(UpstreamConnection upstream, string method, JsonNode? parameters, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        caller.Upstream = upstream.Name;
        if (Own is { } own) upstream = await own.ForAsync(upstream, cancellationToken);
        if (method is RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe)
        {
            // Held per session, for upstreams of either revision (the 2026-07-28 revision removed these methods).
            var session = caller.SessionKey ?? throw new McpProtocolException($"Method not found: '{method}' (use subscriptions/listen).", McpErrorCode.MethodNotFound);
            return await upstream.Subscriptions.AnswerAsync(session, method, parameters, cancellationToken);
        }
        return StatelessBridge.Applies(method, caller, upstream)
            ? await services.Bridge.RelayAsync(upstream, $"{Target}|{upstream.Name}", identity.Key, method, parameters, caller, cancellationToken)
            : (await upstream.SendAsync(method, parameters, caller, cancellationToken)).Result;
    }

    // The filter's server is bound to the request's transport, so a streamable-HTTP reply lands on its POST.
    private async Task AnswerAsync(MessageContext context, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        LogRelaying(services.Logger, request.Method, new SessionLogTag(context.Server.SessionId), Target);
        var operation = StartMeasuring(context, request, request.Method, ProxyInstruments.TargetOf(request.Method, request.Params));
        var audit = BeginAudit(request);
        var downstream = new DownstreamCaller(context.Server, request);
        var outcome = McpOutcome.Cancelled; // until an answer or a failure says otherwise: MCP sends none after a cancel
        long responseBytes = 0;
        try
        {
            JsonRpcMessage reply;
            try
            {
                var result = await RelayAsync(request, downstream, cancellationToken);
                outcome = McpOutcome.OfResult(result);
                if (audit.IsRecording) responseBytes = JsonSize.Of(result);
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
                outcome = McpOutcome.JsonRpcError((int)ex.ErrorCode, ex.Message, answering: true, refused: ex is ToolFilteredException);
                var (code, data) = (ex.ErrorCode, UpstreamErrorData.Of(ex));
                if (ResultShaper.SpeaksLatest(request, context.Server)) (code, data) = ResultShaper.ErrorForLatest(request, code, data);
                reply = Error(request, code, ex.Message, data);
            }
            catch (UpstreamException ex)
            {
                LogFailed(services.Logger, request.Method, new SessionLogTag(context.Server.SessionId), Target, ex.Message);
                outcome = McpOutcome.GatewayFailure(ex.Outcome, ex.Message, answering: true, refused: ex.Error == UpstreamError.Overloaded);
                reply = Error(request, ex.Code, ex.Message);
            }
            catch (Exception ex)
            {
                // Not a failure the relay knows: the SDK answers it with an internal error.
                outcome = McpOutcome.GatewayFailure(ex.GetType().FullName ?? "_OTHER", ex.Message, answering: true);
                throw;
            }
            // Not the request's token: the gateway may have cancelled it to end the stream.
            await context.Server.SendMessageAsync(reply, CancellationToken.None);
        }
        finally
        {
            var server = route.Server ?? (RoutesToOne(request.Method) ? downstream.Upstream : null);
            operation.Complete(outcome, server);
            audit.Complete(outcome.Audit, responseBytes, server, AuditTargetOf(request));
        }
    }

    // The SDK answers these (initialize, ping) or takes them (notifications); they are measured all the same.
    private async Task PassMeasuredAsync(McpMessageHandler next, MessageContext context, CancellationToken cancellationToken)
    {
        var message = context.JsonRpcMessage;
        var operation = StartMeasuring(context, message, (message as JsonRpcRequest)?.Method ?? ((JsonRpcNotification)message).Method, target: null);
        var outcome = McpOutcome.Ok;
        try
        {
            await next(context, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = McpOutcome.Cancelled;
            throw;
        }
        catch (McpProtocolException ex)
        {
            outcome = McpOutcome.JsonRpcError((int)ex.ErrorCode, ex.Message, answering: true);
            throw;
        }
        catch (Exception ex)
        {
            outcome = McpOutcome.GatewayFailure(ex.GetType().FullName ?? "_OTHER", ex.Message, answering: true);
            throw;
        }
        finally
        {
            operation.Complete(outcome);
        }
    }

    private McpOperation StartMeasuring(MessageContext context, JsonRpcMessage message, string method, string? target)
    {
        var session = context.Server;
        var sessionTag = session.SessionId is { } id ? _sessionTag ??= SessionTags.Hash(id) : null;
        var (parameters, requestId) = message is JsonRpcRequest request ? (request.Params, request.Id) : ((message as JsonRpcNotification)?.Params, default);
        return services.Instruments.StartServer(method, target, parameters, requestId, route,
            message.Context?.ProtocolVersion ?? session.NegotiatedProtocolVersion, sessionTag, _clientAddress);
    }

    private AuditScope BeginAudit(JsonRpcRequest request)
    {
        if (!services.Audit.IsEnabled || !AuditMethods.IsAudited(request.Method)) return default;
        // An OAuth caller is named by its subject, as the admin API names it; its token is not fingerprinted.
        _auditCaller ??= identity.Principal is { } principal ? AuditCaller.From(identity.Address, [], principal.Name) : AuditCaller.From(identity.Address, identity.Token);
        return services.Audit.Begin(AuditRoute, _auditCaller, request.Method, route.Server, AuditTargetOf(request),
            JsonSize.Of(request.Params), request.Params?["arguments"]);
    }

    // Read when the call ends too: on the aggregate and a virtual server, routing has by then put the upstream's own name in the params.
    private static string? AuditTargetOf(JsonRpcRequest request) =>
        request.Method == RequestMethods.ResourcesRead ? request.Params?["uri"].AsString() : ProxyInstruments.TargetOf(request.Method, request.Params);

    // Lists and logging/setLevel on the aggregate or a virtual server go to every (member) server; these go to one.
    private static bool RoutesToOne(string method) => method is RequestMethods.ToolsCall or RequestMethods.PromptsGet or RequestMethods.ResourcesRead
        or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe or RequestMethods.CompletionComplete;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relaying {Method} from session {Session} to {McpName}")]
    private static partial void LogRelaying(ILogger logger, string method, SessionLogTag session, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} from session {Session} to {McpName} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string method, SessionLogTag session, string mcpName, string error);

    private static JsonRpcError Error(JsonRpcRequest request, McpErrorCode code, string message, JsonNode? data = null) =>
        new() { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message, Data = data } };
}

/// <summary>A session as logs name it (<see cref="SessionTags"/>), computed only when a message is written.</summary>
internal readonly struct SessionLogTag(string? sessionId)
{
    public override string ToString() => sessionId is null ? "(stateless)" : SessionTags.Hash(sessionId);
}
