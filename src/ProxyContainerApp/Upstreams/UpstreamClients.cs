using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Opens the SDK client of one connection: its transport (observed in arrival order, see
/// <see cref="ObservedClientTransport"/>), what it advertises upstream, and where the upstream's notifications and
/// server-to-client requests go.
/// </summary>
internal static class UpstreamClients
{
    /// <summary>
    /// The gateway speaks the last session-based revision upstream: every current server supports it, a shared
    /// long-lived connection wants a session anyway, and it skips the newer revision's discovery probe that some
    /// servers answer in ways that leave them uninitialized.
    /// </summary>
    public const string ProtocolVersion = "2025-11-25";

    private static readonly Implementation GatewayClientInfo = new()
    {
        Name = "mcp-serverless-gateway",
        Version = typeof(UpstreamClients).Assembly.GetName().Version?.ToString() ?? "1.0.0",
    };

    /// <param name="onToolsChanged">Told of the upstream's <c>tools/list_changed</c>; must return at once (it runs in the client's read loop).</param>
    public static async Task<McpClient> ConnectAsync(UpstreamConnection connection, Action<JsonRpcNotification> onToolsChanged, CancellationToken cancellationToken)
    {
        var model = connection.Model;
        var transport = UpstreamTransports.Create(model.Definition, model.Timeout, model.MaxResponseBytes, model.Credential, connection.LoggerFactory, message => Observe(connection, message));
        try
        {
            return await McpClient.CreateAsync(transport, Options(connection, onToolsChanged), connection.LoggerFactory, cancellationToken);
        }
        catch
        {
            await transport.DisposeAsync();
            throw;
        }
    }

    private static McpClientOptions Options(UpstreamConnection connection, Action<JsonRpcNotification> onToolsChanged) => new()
    {
        ProtocolVersion = ProtocolVersion,
        ClientInfo = GatewayClientInfo,
        Handlers = new McpClientHandlers
        {
            // Setting these makes the SDK advertise sampling and (form) elicitation upstream; roots are per client
            // and a shared connection has no one client to ask, so they are not advertised.
#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on, but current in the revision spoken upstream.
            SamplingHandler = (request, _, cancellationToken) => AskCallerAsync(connection, RequestMethods.SamplingCreateMessage, request!,
                c => c.Sampling is not null, new() { Sampling = new() }, caller => caller.SampleAsync(request!, cancellationToken)),
#pragma warning restore MCP9005
            ElicitationHandler = (request, cancellationToken) => AskCallerAsync(connection, RequestMethods.ElicitationCreate, request!,
                c => c.Elicitation is not null, new() { Elicitation = new() }, caller => caller.ElicitAsync(request!, cancellationToken)),
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
                // Logging is deprecated in 2026-07-28 but clients of earlier revisions still receive log messages.
                new("notifications/message", (notification, _) => connection.NotifyAsync(notification)),
            ],
        },
    };

    /// <summary>
    /// Relays a server-to-client request to the caller waiting on this connection (see <see cref="CallerCalls.SoleCall"/>),
    /// measured on both hops: a SERVER span as the gateway receives it (its parent the upstream's <c>_meta</c> context,
    /// or else the call that caused it) and a CLIENT span as it passes it on, whose context replaces the upstream's.
    /// </summary>
    private static async ValueTask<TResult> AskCallerAsync<TResult>(UpstreamConnection connection, string method, RequestParams request,
        Func<ClientCapabilities, bool> supports, ClientCapabilities required, Func<IUpstreamCaller, ValueTask<TResult>> ask)
    {
        CallerCalls.Call? call = null;
        McpProtocolException? refusal = null;
        try
        {
            call = connection.Callers.SoleCall(method);
        }
        catch (McpProtocolException ex)
        {
            refusal = ex;
        }
        var instruments = connection.Instruments;
        var received = instruments.StartServer(method, null, Carrier(request.Meta), default, connection.Model.Peer,
            connection.Session?.Client.NegotiatedProtocolVersion, connection.Session?.SessionTag, fallbackParent: call?.Origin ?? default);
        var outcome = McpOutcome.Ok;
        try
        {
            if (refusal is not null) throw refusal;
            var caller = call!.Caller;
            var declared = caller.Capabilities is { } capabilities && supports(capabilities);
            if (caller.SessionKey is null)
            {
                // A 2026-07-28 client that did not declare the capability gets the revision's own error, with its data.
                if (!declared) throw new MissingRequiredClientCapabilityException(required, $"MCP server '{connection.Name}' needs the client capability for {method}, which this request did not declare.");
                // That revision replaces these requests with multi-round-trip results, which a shared upstream cannot give.
                throw new McpProtocolException($"The client session using MCP server '{connection.Name}' is stateless (protocol {caller.ProtocolVersion}) and cannot take {method}.", McpErrorCode.InvalidRequest);
            }
            if (!declared)
                throw new McpProtocolException($"The client session using MCP server '{connection.Name}' does not support {method}.", McpErrorCode.InvalidRequest);

            // With nothing recording, the upstream's own _meta context goes on as it is; the ambient context here is the
            // connection's, not the caller's, so it must not stand in for a missing one.
            if (received.Span is null) System.Diagnostics.Activity.Current = null;
            var carrier = Carrier(request.Meta);
            var sent = instruments.StartClient(method, null, ref carrier, McpPeer.DownstreamClient, caller.ProtocolVersion);
            request.Meta = (JsonObject?)(carrier as JsonObject)?["_meta"]?.DeepClone();
            var sentOutcome = McpOutcome.Ok;
            try
            {
                return await ask(caller);
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

    // Trace context travels in _meta; the typed request keeps _meta apart from its params, so it is carried in a params-shaped copy.
    private static JsonNode? Carrier(JsonObject? meta) => meta is null ? null : new JsonObject { ["_meta"] = meta.DeepClone() };

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
