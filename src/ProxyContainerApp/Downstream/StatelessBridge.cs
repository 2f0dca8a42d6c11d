using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using McpServerless.Bridge;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The revision bridge for a stateless (2026-07-28) caller of a session-based (2025-11-25 and earlier) upstream: the
/// upstream asks during the call, the caller can only be asked in an answer. The upstream call runs in a
/// <see cref="PendingCall"/>; its sampling, elicitation and roots requests become the caller's input-required result
/// (several at once where the upstream sent several), with a <c>requestState</c> naming the call
/// (<see cref="RequestStateProtector"/>: sealed, bound to the caller and route, single-use, expiring); the caller's
/// retry answers them and gets the final result or the next round. A call whose caller goes away or does not come
/// back within the server's <c>timeout</c> is cancelled upstream, and so is a caller's oldest waiting call when it has
/// <c>Limits:MaxParkedCallsPerCaller</c> waiting and another one parks.
/// </summary>
/// <remarks>
/// Only <c>tools/call</c>, <c>prompts/get</c> and <c>resources/read</c> may answer with input required (SEP-2322). A
/// 2026-07-28 upstream needs no bridge: its input-required results pass through (see <see cref="InputRequiredRounds"/>).
/// </remarks>
internal sealed partial class StatelessBridge(PendingCallRegistry registry, RequestStateProtector protector, ILogger<StatelessBridge> logger)
{
    private const string InputKeyMeta = "mcpserverless/inputKey";

    private static readonly IReadOnlySet<string> BridgedMethods = new HashSet<string>(StringComparer.Ordinal)
    {
        RequestMethods.ToolsCall, RequestMethods.PromptsGet, RequestMethods.ResourcesRead,
    };

    // The caller of each call in flight, to point its progress at the request waiting now.
    private readonly ConditionalWeakTable<PendingCall, BridgedCaller> _callers = [];

    /// <summary>Upstream calls parked, waiting for their callers' retries.</summary>
    public int PendingCount => registry.Count;

    /// <summary>Whether this request of this caller to this upstream goes through the bridge.</summary>
    public static bool Applies(string method, DownstreamCaller caller, UpstreamConnection upstream) =>
        caller.SessionKey is null && caller.TakesInputRequiredResults && BridgedMethods.Contains(method) && upstream.Session is { IsStateless: false };

    /// <summary>Relays a first call or a retry, and returns the result or an input-required result.</summary>
    /// <param name="route">Where states are good: the endpoint and the server.</param>
    /// <param name="callerKey">Whom states are good for: the token's hash, else the client's address.</param>
    /// <param name="parameters">The request's params, which the caller owns: the retry's fields are taken out of them.</param>
    public async Task<JsonNode?> RelayAsync(UpstreamConnection upstream, string route, string callerKey, string method, JsonNode? parameters,
        DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var (state, responses) = TakeRetry(parameters);
        PendingCall call;
        if (state is null)
        {
            var bridged = new BridgedCaller(caller);
            call = registry.Start(upstream.Model.Timeout,
                async token => (await upstream.SendAsync(method, parameters, bridged, token)).Result, responses, callerKey);
            _callers.Add(call, bridged);
            bridged.Attach(call);
        }
        else
        {
            call = Resume(state, callerKey, route, responses);
            if (_callers.TryGetValue(call, out var bridged)) bridged.Current = caller;
        }

        switch (await call.NextStepAsync(cancellationToken))
        {
            case PendingStep.InputRequired round:
                LogAsking(logger, upstream.Name, round.Requests.Count, round.Deadline);
                return InputRequiredResult(round, protector.Protect(call.Id, callerKey, route, round.Deadline));
            case PendingStep.Completed completed:
                return completed.Result;
            default:
                throw new InvalidOperationException("Unknown step.");
        }
    }

    private PendingCall Resume(string state, string callerKey, string route, IReadOnlyDictionary<string, JsonNode?>? responses)
    {
        var check = protector.Unprotect(state, callerKey, route);
        if (check.Rejection is not null) throw Refused(check.ErrorMessage!, check.Reason!, check.Replica);
        // Accepted, but no longer parked: its deadline passed (the state expires with it), or its caller went away.
        if (!registry.TryResume(check.CallId!, out var call))
            throw Refused("requestState names a call that was given up: its caller did not come back in time, or went away. Call again without it.", "expired", null);
        try
        {
            call.Answer(responses ?? new Dictionary<string, JsonNode?>());
            return call;
        }
        catch (InvalidInputResponseException ex)
        {
            // A retry's state is used up either way; the call cannot be continued with another.
            call.Cancel();
            throw new McpProtocolException($"{ex.Message} The call was given up; call again without requestState.", McpErrorCode.InvalidParams);
        }
    }

    /// <summary>Takes <c>requestState</c> and <c>inputResponses</c> out of the params: they are this hop's, not the upstream's.</summary>
    private static (string? State, IReadOnlyDictionary<string, JsonNode?>? Responses) TakeRetry(JsonNode? parameters)
    {
        if (parameters is not JsonObject request) return (null, null);
        string? state = null;
        if (request.TryGetPropertyValue("requestState", out var stateNode))
        {
            request.Remove("requestState");
            if (stateNode is not JsonValue text || !text.TryGetValue(out state))
                throw new McpProtocolException("requestState must be a string.", McpErrorCode.InvalidParams);
        }
        if (!request.TryGetPropertyValue("inputResponses", out var responsesNode)) return (state, null);
        request.Remove("inputResponses");
        if (responsesNode is not JsonObject responses)
            throw new McpProtocolException("inputResponses must be an object of responses by input request key.", McpErrorCode.InvalidParams);
        return (state, responses.ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal));
    }

    private static JsonObject InputRequiredResult(PendingStep.InputRequired round, string requestState)
    {
        var requests = new JsonObject();
        foreach (var request in round.Requests)
            requests[request.Key] = new JsonObject { ["method"] = request.Method, ["params"] = request.Parameters?.DeepClone() };
        return new JsonObject { ["resultType"] = "input_required", ["inputRequests"] = requests, ["requestState"] = requestState };
    }

    // SEP-2322 names no code; -32602 is what its tampered-state scenario expects. data.reason says which refusal it was.
    private static McpProtocolException Refused(string message, string reason, string? replica)
    {
        var refused = new McpProtocolException(message, McpErrorCode.InvalidParams);
        refused.Data["reason"] = reason;
        if (replica is not null) refused.Data["replica"] = replica;
        return refused;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "MCP server {McpName} asked a stateless caller {Count} question(s); the call waits until {Deadline}")]
    private static partial void LogAsking(ILogger logger, string mcpName, int count, DateTimeOffset deadline);

    /// <summary>
    /// The caller of one bridged call as the upstream side sees it: the upstream's questions go into the pending call,
    /// under the upstream's key hint when it gave one; progress goes to whichever of the caller's requests waits now.
    /// </summary>
    private sealed class BridgedCaller(DownstreamCaller first) : IUpstreamCaller
    {
        private readonly TaskCompletionSource<PendingCall> _call = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile DownstreamCaller? _current;

        public DownstreamCaller Current
        {
            set => _current = value;
        }

        public string? SessionKey => null;

        public string? ProtocolVersion => first.ProtocolVersion;

        // The first request's: the state binds its retries to the same caller.
        public ClientCapabilities? Capabilities => first.Capabilities;

        public bool IsSuspended => _call.Task.IsCompletedSuccessfully && _call.Task.Result.Deadline is not null;

        // The upstream may ask before Start has returned the call.
        public void Attach(PendingCall call) => _call.TrySetResult(call);

        public ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken) =>
            (_current ?? first).NotifyAsync(notification, cancellationToken);

        public async ValueTask<JsonNode?> AskAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
        {
            var call = await _call.Task.WaitAsync(cancellationToken);
            return await call.AskAsync(method, parameters, TakeKeyHint(parameters), cancellationToken);
        }

        // The hint is between the upstream and the gateway; the caller sees it as the request's key.
        private static string? TakeKeyHint(JsonNode? parameters) =>
            parameters.TryTakeMeta(InputKeyMeta, out var hint) ? hint.AsString() : null;
    }
}
