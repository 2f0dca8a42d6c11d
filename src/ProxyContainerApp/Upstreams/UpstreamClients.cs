using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Opens the SDK client of one connection: its transport (observed in arrival order, see
/// <see cref="ObservedClientTransport"/>), the revision it speaks, what it advertises upstream, and where the
/// upstream's notifications and server-to-client requests go.
/// </summary>
/// <remarks>
/// Unless the definition pins a revision, the gateway offers 2025-11-25 and, when the server refuses to initialize,
/// asks <c>server/discover</c> for 2026-07-28. A server of both revisions thus gets a session: a stateless hop would
/// take from the gateway's session callers what only a session carries (requests during a call from tools that ask
/// the 2025-11-25 way, <c>logging/setLevel</c> and log messages, <c>resources/subscribe</c>), while the revision
/// bridge serves stateless callers over a session fully. A 2026-07-28 upstream is called statelessly: no session to
/// keep, its input-required results handled by <see cref="InputRequiredRounds"/>, and each request carries its
/// caller's capabilities rather than the gateway's (<see cref="UpstreamHop"/>), so the gateway advertises none on that hop.
/// </remarks>
internal static class UpstreamClients
{
    /// <summary>The revision offered first when the definition pins none: the last with sessions.</summary>
    public const string SessionRevision = "2025-11-25";

    private static readonly Implementation GatewayClientInfo = new()
    {
        Name = "mcp-serverless-gateway",
        Version = typeof(UpstreamClients).Assembly.GetName().Version?.ToString() ?? "1.0.0",
    };

    /// <param name="onToolsChanged">Told of the upstream's <c>tools/list_changed</c>; must return at once (it runs in the client's read loop).</param>
    public static async Task<McpClient> ConnectAsync(UpstreamConnection connection, Action<JsonRpcNotification> onToolsChanged, CancellationToken cancellationToken)
    {
        var pinned = connection.Model.Definition.ProtocolVersion;
        try
        {
            return await ConnectAsync(connection, pinned ?? SessionRevision, onToolsChanged, cancellationToken);
        }
        catch (McpProtocolException) when (pinned is null && !cancellationToken.IsCancellationRequested)
        {
            // It answered initialize with an error: a server of 2026-07-28 alone, which server/discover finds.
            return await ConnectAsync(connection, null, onToolsChanged, cancellationToken);
        }
    }

    private static async Task<McpClient> ConnectAsync(UpstreamConnection connection, string? revision, Action<JsonRpcNotification> onToolsChanged, CancellationToken cancellationToken)
    {
        var model = connection.Model;
        var transport = UpstreamTransports.Create(model.Definition, model.Timeout, model.MaxResponseBytes, model.Credential, connection.LoggerFactory,
            connection.PostStreams, message => Observe(connection, message));
        try
        {
            var options = Options(connection, revision, onToolsChanged);
            var client = await McpClient.CreateAsync(transport, options, connection.LoggerFactory, cancellationToken);
            // The SDK merges what the client advertises into every request's declared capabilities: on a stateless
            // hop those must be the caller's alone.
            if (McpRevisions.IsStateless(client.NegotiatedProtocolVersion)) options.Capabilities = new();
            return client;
        }
        catch
        {
            await transport.DisposeAsync();
            throw;
        }
    }

    private static McpClientOptions Options(UpstreamConnection connection, string? revision, Action<JsonRpcNotification> onToolsChanged) => new()
    {
        ProtocolVersion = revision,
        // A server that ignores server/discover is asked to initialize once this passes; one that starts slowly (a
        // stdio child) must not be taken for one, so the probe has half the connect timeout.
        DiscoverProbeTimeout = connection.Model.Timeout / 2,
        ClientInfo = GatewayClientInfo,
        Handlers = new McpClientHandlers
        {
            // Setting these makes the SDK advertise sampling, (form) elicitation and roots upstream: whether the caller
            // of the call that asks can answer is checked when it asks.
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but current in 2025-11-25.
            SamplingHandler = (request, _, cancellationToken) => AskCallerAsync(connection, RequestMethods.SamplingCreateMessage, request,
                c => c.Sampling is not null, new() { Sampling = new() }, TypeInfo<CreateMessageRequestParams>(), TypeInfo<CreateMessageResult>(), cancellationToken),
            RootsHandler = (request, cancellationToken) => AskCallerAsync(connection, RequestMethods.RootsList, request,
                c => c.Roots is not null, new() { Roots = new() }, TypeInfo<ListRootsRequestParams>(), TypeInfo<ListRootsResult>(), cancellationToken),
#pragma warning restore MCP9005
            ElicitationHandler = (request, cancellationToken) => AskCallerAsync(connection, RequestMethods.ElicitationCreate, request,
                c => c.Elicitation is not null, new() { Elicitation = new() }, TypeInfo<ElicitRequestParams>(), TypeInfo<ElicitResult>(), cancellationToken),
            NotificationHandlers =
            [
                new(NotificationMethods.ToolListChangedNotification, (notification, _) =>
                {
                    onToolsChanged(notification);
                    return ValueTask.CompletedTask;
                }),
                new(NotificationMethods.PromptListChangedNotification, (notification, _) => connection.NotifyAsync(notification)),
                new(NotificationMethods.ResourceListChangedNotification, (notification, _) => connection.NotifyAsync(notification)),
                new(NotificationMethods.ResourceUpdatedNotification, (notification, _) => connection.NotifyAsync(notification)),
                new(NotificationMethods.SubscriptionsAcknowledgedNotification, (notification, _) =>
                {
                    connection.Session?.Listen?.Acknowledged(notification);
                    return ValueTask.CompletedTask;
                }),
                // Logging is deprecated in 2026-07-28 but clients of earlier revisions still receive log messages.
                new("notifications/message", (notification, _) => connection.NotifyAsync(notification)),
            ],
        },
    };

    /// <summary>
    /// Relays a server-to-client request to the caller waiting on this connection (see <see cref="CallerCalls.SoleCall"/>),
    /// as raw JSON (the SDK hands the gateway typed params and wants a typed result, which are converted once here),
    /// measured on both hops: a SERVER span as the gateway receives it (its parent the upstream's <c>_meta</c> context,
    /// or else the call that caused it) and a CLIENT span as it passes it on, whose context replaces the upstream's.
    /// </summary>
    private static async ValueTask<TResult> AskCallerAsync<TParams, TResult>(UpstreamConnection connection, string method, TParams? request,
        Func<ClientCapabilities, bool> supports, ClientCapabilities required, JsonTypeInfo<TParams> paramsType, JsonTypeInfo<TResult> resultType,
        CancellationToken cancellationToken)
    {
        CallerCalls.Call? call = null;
        McpProtocolException? refusal = null;
        try
        {
            call = PostStreams.TakeCall(request as RequestParams) is { } cause && connection.Callers.CallFor(cause) is { } caused
                ? caused
                : connection.Callers.SoleCall(method);
        }
        catch (McpProtocolException ex)
        {
            refusal = ex;
        }
        var parameters = request is null ? null : JsonSerializer.SerializeToNode(request, paramsType);
        var instruments = connection.Instruments;
        var received = instruments.StartServer(method, null, parameters, default, connection.Model.Peer,
            connection.Session?.Client.NegotiatedProtocolVersion, connection.Session?.SessionTag, fallbackParent: call?.Origin ?? default);
        var outcome = McpOutcome.Ok;
        try
        {
            if (refusal is not null) throw refusal;
            var caller = call!.Caller;
            if (caller.Capabilities is not { } capabilities || !supports(capabilities))
            {
                // A 2026-07-28 client that did not declare the capability gets the revision's own error, with its data.
                if (caller.SessionKey is null) throw new MissingRequiredClientCapabilityException(required, $"MCP server '{connection.Name}' needs the client capability for {method}, which this request did not declare.");
                throw new McpProtocolException($"The client session using MCP server '{connection.Name}' does not support {method}.", McpErrorCode.InvalidRequest);
            }

            // With nothing recording, the upstream's own _meta context goes on as it is; the ambient context here is the
            // connection's, not the caller's, so it must not stand in for a missing one.
            if (received.Span is null) Activity.Current = null;
            var sent = instruments.StartClient(method, null, ref parameters, McpPeer.DownstreamClient, caller.ProtocolVersion);
            var sentOutcome = McpOutcome.Ok;
            JsonNode? answer;
            try
            {
                answer = await caller.AskAsync(method, parameters, cancellationToken);
            }
            catch (McpProtocolException ex)
            {
                sentOutcome = McpOutcome.JsonRpcError((int)ex.ErrorCode, ex.Message, answering: false);
                throw;
            }
            catch (Exception ex)
            {
                sentOutcome = ex is OperationCanceledException ? McpOutcome.Cancelled : McpOutcome.GatewayFailure(ex.GetType().FullName ?? "_OTHER", ex.Message, answering: false);
                throw;
            }
            finally
            {
                sent.Complete(sentOutcome, connection.Name);
            }
            return answer.Deserialize(resultType) ?? throw new McpProtocolException($"The client answered {method} with no result.", McpErrorCode.InternalError);
        }
        catch (McpProtocolException ex)
        {
            outcome = McpOutcome.JsonRpcError((int)ex.ErrorCode, ex.Message, answering: true);
            throw;
        }
        catch (Exception ex)
        {
            outcome = ex is OperationCanceledException ? McpOutcome.Cancelled : McpOutcome.GatewayFailure(ex.GetType().FullName ?? "_OTHER", ex.Message, answering: true);
            throw;
        }
        finally
        {
            received.Complete(outcome);
        }
    }

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));

    // Runs in the SDK's read loop, in arrival order: progress is queued on its call before that call's response can
    // complete it, so a call forwards every update sent before its answer.
    private static JsonRpcMessage? Observe(UpstreamConnection connection, JsonRpcMessage message)
    {
        // HTTP responses are held to the limit while they are read; a stdio line is only seen whole, so it is measured here.
        if (connection.Model.Definition.Transport == McpTransport.Stdio && IsOversized(message, connection.Model.MaxResponseBytes))
        {
            connection.ReportOversized();
            OversizedGarbage.Reclaim();
            // A response becomes the error its caller gets; anything else over the limit is dropped.
            return message is JsonRpcResponse response
                ? new JsonRpcError { Id = response.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = UpstreamFailures.TooLarge(connection.Model) } }
                : null;
        }
        if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification } progress)
            connection.Callers.TryRouteProgress(progress, connection.ReportProgressLost, connection.Stopping);
        else if (message is JsonRpcRequest request) connection.PostStreams.Tag(request);
        else if (connection.Session is { IsStateless: true }) InputRequiredRounds.Conceal(message);
        return message;
    }

    private static bool IsOversized(JsonRpcMessage message, long limit) => message switch
    {
        JsonRpcResponse response => JsonSize.Exceeds(response.Result, limit),
        JsonRpcRequest request => JsonSize.Exceeds(request.Params, limit),
        JsonRpcNotification notification => JsonSize.Exceeds(notification.Params, limit),
        _ => false,
    };
}
