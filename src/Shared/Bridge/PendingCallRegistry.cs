using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace McpServerless.Bridge;

/// <summary>
/// The upstream calls of stateless (2026-07-28) callers that are suspended on server-to-client requests, waiting for
/// the caller to retry with the answers (the revision bridge). A call is <em>parked</em> from the moment its caller is
/// handed an input-required result until the caller's retry resumes it, or its deadline passes and it is given up;
/// <see cref="Count"/> is the number parked, the figure to publish.
/// </summary>
/// <remarks>
/// The registry knows nothing of transports or JSON-RPC: the relay starts a call with a delegate that makes the
/// upstream request, routes the upstream's server-to-client requests to <see cref="PendingCall.AskAsync"/>, and turns
/// each <see cref="PendingStep"/> into its caller's answer.
/// </remarks>
public sealed class PendingCallRegistry
{
    /// <summary>
    /// How long a call that has asked something waits for more requests before its round goes to the caller: an
    /// upstream sending several requests at once (as SDKs resolving several input requests do) sends them within
    /// microseconds of one another, and they then reach the caller in one input-required result, not one round each.
    /// </summary>
    public static readonly TimeSpan DefaultGatherWindow = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentDictionary<string, PendingCall> _parked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _parkedByCaller = new(StringComparer.Ordinal);

    private readonly int _maxParkedPerCaller;

    /// <param name="maxParkedPerCaller">
    /// How many calls one caller may have parked: parking one more gives up the caller's oldest, most likely one it
    /// abandoned (each holds an upstream request open until its deadline).
    /// </param>
    public PendingCallRegistry(TimeProvider time, TimeSpan? gatherWindow = null, int maxParkedPerCaller = int.MaxValue)
    {
        Time = time;
        GatherWindow = gatherWindow ?? DefaultGatherWindow;
        ArgumentOutOfRangeException.ThrowIfLessThan(GatherWindow, TimeSpan.Zero, nameof(gatherWindow));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxParkedPerCaller, 1);
        _maxParkedPerCaller = maxParkedPerCaller;
    }

    /// <summary>Calls waiting for their caller's retry.</summary>
    public int Count => _parked.Count;

    /// <summary>Calls of <paramref name="caller"/> (as <see cref="Start"/> named it) waiting for its retry.</summary>
    public int ParkedBy(string caller) => _parkedByCaller.GetValueOrDefault(caller);

    public TimeSpan GatherWindow { get; }

    internal TimeProvider Time { get; }

    /// <summary>
    /// Starts an upstream call for a stateless caller: <paramref name="upstream"/> runs at once, with a token that is
    /// cancelled when the call is given up (its caller went away, or did not come back within <paramref name="timeout"/>).
    /// </summary>
    /// <param name="timeout">How long each round may wait for the caller's retry: the server's <c>timeout</c>.</param>
    /// <param name="suppliedResponses">
    /// <c>inputResponses</c> the first request already carried (a caller may answer what it expects to be asked, as a
    /// stateless server would let it): a request asked under one of these keys is answered from them at once.
    /// </param>
    /// <param name="caller">Whose call it is, for <see cref="ParkedBy"/>.</param>
    public PendingCall Start(TimeSpan timeout, Func<CancellationToken, Task<JsonNode?>> upstream, IReadOnlyDictionary<string, JsonNode?>? suppliedResponses = null,
        string caller = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var call = new PendingCall(this, timeout, suppliedResponses, caller);
        call.Begin(upstream);
        return call;
    }

    /// <summary>Takes the parked call a retry continues, so no other retry and no expiry can take it too.</summary>
    public bool TryResume(string callId, [NotNullWhen(true)] out PendingCall? call)
    {
        if (!_parked.TryRemove(callId, out call)) return false;
        Unparked(call);
        return true;
    }

    /// <returns>The caller's oldest call, taken out to make room, for the caller of this method to cancel outside its lock.</returns>
    internal PendingCall? Park(PendingCall call)
    {
        PendingCall? evicted = null;
        if (ParkedBy(call.Caller) >= _maxParkedPerCaller
            && _parked.Values.Where(p => p.Caller == call.Caller).MinBy(p => p.Deadline) is { } oldest
            && _parked.TryRemove(KeyValuePair.Create(oldest.Id, oldest)))
        {
            Unparked(oldest);
            evicted = oldest;
        }
        _parked[call.Id] = call;
        _parkedByCaller.AddOrUpdate(call.Caller, 1, static (_, count) => count + 1);
        call.Deadline = Time.GetUtcNow() + call.Timeout;
        call.DeadlineTimer = Time.CreateTimer(static state =>
        {
            var (registry, parked) = ((PendingCallRegistry, PendingCall))state!;
            registry.Expire(parked);
        }, (this, call), call.Timeout, Timeout.InfiniteTimeSpan);
        return evicted;
    }

    /// <summary>Takes a parked call out without resuming it: it was given up.</summary>
    internal void Remove(PendingCall call)
    {
        if (_parked.TryRemove(KeyValuePair.Create(call.Id, call))) Unparked(call);
    }

    private void Expire(PendingCall call)
    {
        if (!_parked.TryRemove(KeyValuePair.Create(call.Id, call))) return;
        Unparked(call);
        call.Cancel();
    }

    private void Unparked(PendingCall call)
    {
        call.Unpark();
        if (_parkedByCaller.AddOrUpdate(call.Caller, 0, static (_, count) => count - 1) == 0)
            _parkedByCaller.TryRemove(KeyValuePair.Create(call.Caller, 0));
    }
}

/// <summary>
/// One upstream call of a stateless caller that may need the caller's input. Its requests wait in answer slots, keyed
/// as the caller sees them in <c>inputRequests</c>; each <see cref="NextStepAsync"/> gives the caller the call's result
/// or the next round of requests.
/// </summary>
public sealed class PendingCall
{
    private readonly Lock _gate = new();
    private readonly PendingCallRegistry _registry;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Dictionary<string, Slot> _outstanding = new(StringComparer.Ordinal);
    private readonly HashSet<string> _issuedKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonNode?>? _supplied;
    private TaskCompletionSource _asked = NewSignal();
    private Task<JsonNode?> _upstream = Task.FromResult<JsonNode?>(null);
    private int _sequence;
    private int _stepping;

    internal PendingCall(PendingCallRegistry registry, TimeSpan timeout, IReadOnlyDictionary<string, JsonNode?>? supplied, string caller)
    {
        _registry = registry;
        Timeout = timeout;
        Caller = caller;
        if (supplied is { Count: > 0 }) _supplied = new(supplied, StringComparer.Ordinal);
    }

    /// <summary>Names the call in the state its caller holds between rounds.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>How long each round waits for the caller's retry.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Whose call it is.</summary>
    public string Caller { get; }

    /// <summary>While parked: when the call is given up unless its caller is back.</summary>
    public DateTimeOffset? Deadline { get; internal set; }

    /// <summary>Cancelled when the call is given up; the upstream request runs under it.</summary>
    public CancellationToken Cancelled => _cancellation.Token;

    internal ITimer? DeadlineTimer { get; set; }

    /// <summary>
    /// Asks the caller (from the upstream's server-to-client request): the answer arrives with a later retry. The
    /// request goes to the caller under <paramref name="keyHint"/> when the upstream named one and it is free in this
    /// call, else under a key made from the method (<c>elicitation-1</c>, <c>sampling-2</c>, <c>roots-3</c>).
    /// </summary>
    /// <param name="cancellationToken">The upstream's own request: cancelling it withdraws the question.</param>
    /// <returns>The caller's response, as sent; cancelled when the call is given up.</returns>
    public Task<JsonNode?> AskAsync(string method, JsonNode? parameters, string? keyHint = null, CancellationToken cancellationToken = default)
    {
        Slot slot;
        lock (_gate)
        {
            if (_cancellation.IsCancellationRequested) return Task.FromCanceled<JsonNode?>(_cancellation.Token);
            var key = NewKey(method, keyHint);
            if (_supplied is not null && _supplied.Remove(key, out var supplied) && InputResponseShape.Fits(method, supplied))
                return Task.FromResult(supplied?.DeepClone());
            slot = new Slot(key, method, parameters);
            _outstanding.Add(key, slot);
            _asked.TrySetResult();
        }
        if (cancellationToken.CanBeCanceled)
            slot.Withdrawal = cancellationToken.Register(() => Withdraw(slot, cancellationToken));
        return slot.Answer.Task;
    }

    /// <summary>
    /// Waits for what the caller gets next: the upstream's result (or its failure, thrown), or the requests asked and
    /// not yet answered, after which the call is parked until the caller's retry or its deadline. A caller that goes
    /// away while waiting (<paramref name="callerAborted"/>) gives the call up.
    /// </summary>
    public async Task<PendingStep> NextStepAsync(CancellationToken callerAborted)
    {
        if (Interlocked.Exchange(ref _stepping, 1) == 1) throw new InvalidOperationException("A step of this call is already being awaited.");
        try
        {
            while (true)
            {
                Task asked;
                lock (_gate)
                {
                    if (_outstanding.Count > 0) asked = Task.CompletedTask;
                    else
                    {
                        if (_asked.Task.IsCompleted) _asked = NewSignal();
                        asked = _asked.Task;
                    }
                }
                await Task.WhenAny(asked, _upstream).WaitAsync(callerAborted);
                if (!_upstream.IsCompleted && _registry.GatherWindow > TimeSpan.Zero)
                    await Task.WhenAny(Task.Delay(_registry.GatherWindow, _registry.Time, callerAborted), _upstream).WaitAsync(callerAborted);
                if (_upstream.IsCompleted) return await CompleteAsync();
                PendingCall? evicted;
                PendingStep step;
                lock (_gate)
                {
                    // Questions withdrawn meanwhile leave nothing to ask: wait again.
                    if (_outstanding.Count == 0) continue;
                    var round = _outstanding.Values.Select(s => new PendingRequest(s.Key, s.Method, s.Parameters)).ToList();
                    evicted = _registry.Park(this);
                    step = new PendingStep.InputRequired(round, Deadline!.Value);
                }
                evicted?.Cancel();
                return step;
            }
        }
        catch (OperationCanceledException) when (callerAborted.IsCancellationRequested)
        {
            Cancel();
            throw;
        }
        finally
        {
            Volatile.Write(ref _stepping, 0);
        }
    }

    /// <summary>
    /// Gives the caller's <c>inputResponses</c> (from a retry) to the requests they answer. Keys of no outstanding
    /// request are ignored (SEP-2322: ignore what is not recognised); requests left unanswered are asked again by the
    /// next step. A response not shaped as the result of its request's method answers nothing.
    /// </summary>
    /// <exception cref="InvalidInputResponseException">A response does not fit its request; nothing was answered.</exception>
    public void Answer(IReadOnlyDictionary<string, JsonNode?> responses)
    {
        lock (_gate)
        {
            foreach (var (key, response) in responses)
            {
                if (_outstanding.TryGetValue(key, out var slot) && !InputResponseShape.Fits(slot.Method, response))
                    throw new InvalidInputResponseException(key, slot.Method);
            }
            foreach (var (key, response) in responses)
            {
                if (!_outstanding.Remove(key, out var slot)) continue;
                slot.Withdrawal.Dispose();
                // Detached from the retry's params, so the relay can place it in the upstream's response.
                slot.Answer.TrySetResult(response?.DeepClone());
            }
        }
    }

    /// <summary>Gives the call up: the upstream request is cancelled and its open questions are withdrawn. Safe to repeat.</summary>
    public void Cancel()
    {
        _registry.Remove(this);
        lock (_gate)
        {
            if (_cancellation.IsCancellationRequested) return;
            _cancellation.Cancel();
            WithdrawAll();
        }
    }

    internal void Begin(Func<CancellationToken, Task<JsonNode?>> upstream)
    {
        try
        {
            _upstream = upstream(_cancellation.Token);
        }
        catch (Exception ex)
        {
            _upstream = Task.FromException<JsonNode?>(ex);
        }
    }

    internal void Unpark()
    {
        DeadlineTimer?.Dispose();
        DeadlineTimer = null;
        Deadline = null;
    }

    // The upstream answered: questions it left open are moot.
    private async Task<PendingStep> CompleteAsync()
    {
        lock (_gate) WithdrawAll();
        return new PendingStep.Completed(await _upstream);
    }

    private void WithdrawAll()
    {
        foreach (var slot in _outstanding.Values)
        {
            slot.Withdrawal.Dispose();
            slot.Answer.TrySetCanceled(_cancellation.Token);
        }
        _outstanding.Clear();
    }

    private void Withdraw(Slot slot, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_outstanding.TryGetValue(slot.Key, out var current) && current == slot) _outstanding.Remove(slot.Key);
        }
        slot.Answer.TrySetCanceled(cancellationToken);
    }

    // Keys are unique for the whole call, so an answer meant for an earlier question never answers a later one.
    private string NewKey(string method, string? hint)
    {
        if (!string.IsNullOrWhiteSpace(hint) && hint.Length <= MaxKeyLength && _issuedKeys.Add(hint)) return hint;
        var prefix = method switch
        {
            "elicitation/create" => "elicitation",
            "sampling/createMessage" => "sampling",
            "roots/list" => "roots",
            _ => "input",
        };
        string key;
        do key = $"{prefix}-{++_sequence}";
        while (!_issuedKeys.Add(key));
        return key;
    }

    private const int MaxKeyLength = 128;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Slot(string key, string method, JsonNode? parameters)
    {
        public string Key { get; } = key;

        public string Method { get; } = method;

        public JsonNode? Parameters { get; } = parameters;

        // Completed outside the relay's locks' reach: the upstream handler awaiting it continues on its own.
        public TaskCompletionSource<JsonNode?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Withdrawal { get; set; }
    }
}

/// <summary>What a stateless caller gets from one step of a <see cref="PendingCall"/>.</summary>
public abstract record PendingStep
{
    private PendingStep()
    {
    }

    /// <summary>The upstream's result: the call is over.</summary>
    public sealed record Completed(JsonNode? Result) : PendingStep;

    /// <summary>Requests for the caller to answer (an input-required result), and when the call is given up unless it retries.</summary>
    public sealed record InputRequired(IReadOnlyList<PendingRequest> Requests, DateTimeOffset Deadline) : PendingStep;
}

/// <summary>One request of an input-required result: its key in <c>inputRequests</c>, its method and its params.</summary>
public sealed record PendingRequest(string Key, string Method, JsonNode? Parameters);

/// <summary>An <c>inputResponses</c> entry that is not a result of the request it answers; the caller gets -32602 (invalid params).</summary>
public sealed class InvalidInputResponseException(string key, string method)
    : Exception($"inputResponses.{key} is not a result of {method}.")
{
    public string Key { get; } = key;

    public string Method { get; } = method;
}

/// <summary>The least a response must have to be given to an upstream as the result of a client request (SEP-2322: validate InputResponses).</summary>
internal static class InputResponseShape
{
    public static bool Fits(string method, JsonNode? response) => response is JsonObject result && method switch
    {
        "elicitation/create" => Text(result, "action") is "accept" or "decline" or "cancel",
        "sampling/createMessage" => Text(result, "role") is not null && Text(result, "model") is not null && result["content"] is JsonObject or JsonArray,
        "roots/list" => result["roots"] is JsonArray,
        _ => true,
    };

    private static string? Text(JsonObject result, string name) =>
        result[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
