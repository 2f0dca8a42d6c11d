using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// The calls one connection carries for downstream callers, by number. A call's request goes upstream with the id
/// <c>gw-{number}</c>, and its progress token is swapped for the same, so progress from a shared upstream reaches only
/// the caller that asked, in the order the upstream sent it; the upstream's sampling, elicitation and roots requests go
/// to the call whose POST stream they came on (<see cref="PostStreams"/>), else to the one session waiting on it.
/// </summary>
internal sealed class CallerCalls(string server)
{
    private const string ProgressTokenPrefix = "gw-";

    private readonly ConcurrentDictionary<long, Call> _calls = new();
    private long _numbers;

    public int Count => _calls.Count;

    /// <summary>Whether <paramref name="id"/> is a call's upstream request id.</summary>
    public static bool IsCallId(string id) => id.StartsWith(ProgressTokenPrefix, StringComparison.Ordinal);

    /// <summary>The call in flight whose upstream request id is <paramref name="id"/>, or null.</summary>
    public Call? CallFor(string id) =>
        IsCallId(id) && long.TryParse(id.AsSpan(ProgressTokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
        && _calls.TryGetValue(number, out var call) ? call : null;

    /// <summary>Registers a call for <paramref name="caller"/>; a progress token in <paramref name="parameters"/> is swapped in place.</summary>
    public Call Begin(JsonNode? parameters, IUpstreamCaller caller)
    {
        var number = Interlocked.Increment(ref _numbers);
        var original = parameters?["_meta"]?["progressToken"];
        var call = new Call(this, number, caller, original?.DeepClone(), Activity.Current?.Context ?? default)
        {
            RequestId = new RequestId($"{ProgressTokenPrefix}{number}"),
        };
        _calls[number] = call;
        if (original is not null) parameters!["_meta"]!["progressToken"] = $"{ProgressTokenPrefix}{number}";
        return call;
    }

    /// <summary>
    /// Queues <paramref name="notification"/> for the caller whose call it reports on, with the caller's own token back;
    /// false when it is no call's (finished, or not the gateway's token). Runs in arrival order, so a call's updates are
    /// queued before its answer completes it.
    /// </summary>
    public bool TryRouteProgress(JsonRpcNotification notification, Action<Exception> onLost, CancellationToken stopping)
    {
        if (notification.Params?["progressToken"] is not JsonValue token || !token.TryGetValue(out string? text)
            || !text.StartsWith(ProgressTokenPrefix, StringComparison.Ordinal)
            || !long.TryParse(text.AsSpan(ProgressTokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || !_calls.TryGetValue(number, out var call) || call.OriginalProgressToken is not { } original)
            return false;

        var parameters = notification.Params.DeepClone();
        parameters["progressToken"] = original.DeepClone();
        var forward = new JsonRpcNotification { Method = notification.Method, Params = parameters };
        call.EnqueueProgress(async () =>
        {
            try
            {
                await call.Caller.NotifyAsync(forward, stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                onLost(ex);
            }
        });
        return true;
    }

    /// <summary>
    /// The caller a server-to-client request is for. A shared connection carries no sign of which call caused it beyond
    /// who is waiting: exactly one session with calls in flight is the one; none or several is a JSON-RPC error saying
    /// so. Calls parked by the revision bridge wait for their caller, not for the upstream, so they count only when no
    /// other call is in flight.
    /// </summary>
    public IUpstreamCaller SoleCaller(string method) => SoleCall(method).Caller;

    /// <summary>The call a server-to-client request is for (see <see cref="SoleCaller"/>): with several of one session in flight, any one of them.</summary>
    public Call SoleCall(string method)
    {
        Call? active = null, parked = null;
        bool severalActive = false, severalParked = false;
        foreach (var call in _calls.Values)
        {
            if (call.Caller.IsSuspended) Note(ref parked, ref severalParked, call);
            else Note(ref active, ref severalActive, call);
        }
        var (sole, several) = active is not null ? (active, severalActive) : (parked, severalParked);
        if (several)
            throw new McpProtocolException($"The gateway cannot tell which of several client sessions using MCP server '{server}' this {method} is for.", McpErrorCode.InvalidRequest);
        return sole ?? throw new McpProtocolException($"No client session is waiting on MCP server '{server}' to take this {method}.", McpErrorCode.InvalidRequest);
    }

    private static void Note(ref Call? sole, ref bool several, Call call)
    {
        if (sole is null || SameSession(sole.Caller, call.Caller)) sole = call;
        else several = true;
    }

    // Each request of a session has its own caller object; the session key says they are one client.
    private static bool SameSession(IUpstreamCaller a, IUpstreamCaller b) => ReferenceEquals(a, b) || (a.SessionKey is { } key && key == b.SessionKey);

    /// <summary>One call in flight: who it is for, its progress token, and the forwards queued for it (run one after another).</summary>
    public sealed class Call(CallerCalls owner, long number, IUpstreamCaller caller, JsonNode? originalProgressToken, ActivityContext origin) : IDisposable
    {
        private readonly Lock _progressOrder = new();
        private Task _progress = Task.CompletedTask;

        public IUpstreamCaller Caller { get; } = caller;

        /// <summary>The id the call's request goes upstream with.</summary>
        public RequestId RequestId { get; init; }

        /// <summary>The span context the call was sent under (its CLIENT span), for what the upstream asks during it.</summary>
        public ActivityContext Origin { get; } = origin;

        /// <summary>The caller's own progress token, or null when it asked for no progress.</summary>
        public JsonNode? OriginalProgressToken { get; } = originalProgressToken;

        public void EnqueueProgress(Func<Task> forward)
        {
            lock (_progressOrder) _progress = _progress.ContinueWith(_ => forward(), TaskScheduler.Default).Unwrap();
        }

        /// <summary>Completes once every update queued so far has been forwarded: the answer must not overtake them.</summary>
        public Task ProgressForwardedAsync()
        {
            lock (_progressOrder) return _progress;
        }

        public void Dispose() => owner._calls.TryRemove(number, out _);
    }
}
