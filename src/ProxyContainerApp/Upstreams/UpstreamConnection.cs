using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// The gateway's connection to one upstream server as its <see cref="Model"/> describes it: started, supervised (by an
/// <see cref="UpstreamSupervisor"/>, which connects, reconnects and health-checks), sent to, and disposed. Requests go
/// straight to the current session; while there is none they fail at once instead of waiting.
/// </summary>
public sealed partial class UpstreamConnection : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly string _instance;
    private readonly ProxyInstruments _instruments;
    private readonly IUpstreamObserver _observer;
    private readonly ILogger _logger;
    private readonly ConcurrencyLimiter _concurrency;
    private readonly CancellationTokenSource _stopping = new();
    private UpstreamState _state = UpstreamState.Initial;
    private TaskCompletionSource<UpstreamSession> _connected = NewSignal();
    private Task _supervising = Task.CompletedTask;

    internal UpstreamConnection(UpstreamModel model, string instance, TimeProvider time, ProxyInstruments instruments, ILoggerFactory loggerFactory, IUpstreamObserver observer)
    {
        Model = model;
        _instance = instance;
        _time = time;
        _instruments = instruments;
        _observer = observer;
        // The connection and the SDK client and transport it creates log without the definition's secrets.
        LoggerFactory = model.Secrets.IsEmpty ? loggerFactory : new RedactingLoggerFactory(loggerFactory, model.Secrets);
        _logger = LoggerFactory.CreateLogger<UpstreamConnection>();
        Callers = new CallerCalls(model.Name);
        Subscriptions = new ResourceSubscriptions(this, _logger);
        _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = model.Limits.MaxConcurrentRequests,
            QueueLimit = model.Limits.QueuedRequests,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public UpstreamModel Model { get; }

    public string Name => Model.Name;

    /// <summary>The live session, or null while not connected.</summary>
    public UpstreamSession? Session => Volatile.Read(ref _state).Session;

    /// <summary>Requests being relayed upstream right now.</summary>
    public long InFlight => Model.Limits.MaxConcurrentRequests - _concurrency.GetStatistics()!.CurrentAvailablePermits;

    public McpRuntimeStatus Status
    {
        get
        {
            var state = Volatile.Read(ref _state);
            return new McpRuntimeStatus
            {
                Name = Name,
                State = state.State,
                LastError = state.LastError,
                ConnectedSince = state.ConnectedSince,
                ReconnectAttempts = state.ReconnectAttempts,
                ToolCount = state.Session?.Tools.Count ?? 0,
                LastHealthCheck = state.LastHealthCheck,
                Healthy = state.Healthy,
                Instance = _instance,
                ReportedAt = _time.GetUtcNow(),
            };
        }
    }

    internal CallerCalls Callers { get; }

    /// <summary>Which call each server-to-client request of a streamable-HTTP upstream came with.</summary>
    internal PostStreams PostStreams { get; } = new();

    /// <summary>The resources callers are subscribed to on this upstream, and who holds each.</summary>
    internal ResourceSubscriptions Subscriptions { get; }

    internal ProxyInstruments Instruments => _instruments;

    internal ILoggerFactory LoggerFactory { get; }

    internal CancellationToken Stopping => _stopping.Token;

    public void Start() => _supervising = Task.Run(() => new UpstreamSupervisor(this, _time, _instruments, _logger).RunAsync(_stopping.Token));

    /// <summary>Waits until the upstream is connected, up to <paramref name="timeout"/>; null if it is not by then.</summary>
    public async Task<UpstreamSession?> WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Session is { } session) return session;
        try
        {
            return await Volatile.Read(ref _connected).Task.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends a request upstream within the model's timeout, as raw JSON. A filtered tool is refused as unknown. For a
    /// <paramref name="caller"/>, progress comes back to it alone, the upstream's sampling, elicitation and roots
    /// requests during the call may go to it, and a 2026-07-28 upstream's input-required results reach it as
    /// <see cref="InputRequiredRounds"/> says.
    /// </summary>
    /// <exception cref="UpstreamException">The gateway could not complete the request (see <see cref="UpstreamError"/>).</exception>
    /// <exception cref="McpProtocolException">The upstream answered with a JSON-RPC error, or the tool is filtered.</exception>
    public async Task<JsonRpcResponse> SendAsync(string method, JsonNode? parameters, IUpstreamCaller? caller, CancellationToken cancellationToken)
    {
        var tool = method == RequestMethods.ToolsCall ? parameters?["name"].AsString() : null;
        if (tool is not null && !Model.ToolFilter.Allows(tool))
            throw new ToolFilteredException(tool);
        var state = Volatile.Read(ref _state);
        var session = state.Session ?? throw new UpstreamException(UpstreamError.NotConnected,
            $"MCP server '{Name}' is not connected{(state.LastError is null ? "" : $": {state.LastError}")}.");

        using var lease = await _concurrency.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
            throw new UpstreamException(UpstreamError.Overloaded, $"MCP server '{Name}' has too many requests in flight; try again shortly.");

        UpstreamHop.Prepare(parameters, caller, session.IsStateless);
        var operation = _instruments.StartClient(method, ProxyInstruments.TargetOf(method, parameters), ref parameters, Model.Peer,
            session.Client.NegotiatedProtocolVersion, session.SessionTag);
        using var call = caller is null ? null : Callers.Begin(parameters, caller);
        using var timeout = LinkedCancellation.Start(cancellationToken, Model.Timeout);
        var outcome = McpOutcome.Ok;
        try
        {
            var response = await session.Client.SendRequestAsync(new JsonRpcRequest { Id = call?.RequestId ?? default, Method = method, Params = parameters }, timeout.Token);
            if (session.IsStateless)
            {
                response = await InputRequiredRounds.CompleteAsync(response, parameters, caller,
                    (retry, ct) => session.Client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = retry }, ct), timeout.Token);
            }
            outcome = McpOutcome.OfResult(response.Result);
            // Progress the upstream sent before its answer must reach the caller before the answer does.
            if (call is not null) await call.ProgressForwardedAsync();
            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = McpOutcome.Cancelled;
            throw;
        }
        catch (McpProtocolException ex)
        {
            var error = Model.Secrets.Reveals(ex.Message) ? new McpProtocolException(Model.Secrets.Redact(ex.Message), ex.ErrorCode) : ex;
            outcome = McpOutcome.JsonRpcError((int)error.ErrorCode, error.Message, answering: false);
            throw error;
        }
        catch (Exception ex)
        {
            var failure = UpstreamFailures.Classify(this, method, ex, timeout.IsCancellationRequested);
            outcome = McpOutcome.GatewayFailure(failure.Outcome, failure.Message, answering: false);
            if (failure.Error == UpstreamError.ResponseTooLarge) ReportOversized();
            throw failure;
        }
        finally
        {
            operation.Complete(outcome);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _supervising;
        }
        catch (OperationCanceledException)
        {
        }
        if (Session is { } session) await session.Client.DisposeAsync();
        Update(state => state.Without(ConnectionState.Disconnected, null));
        _concurrency.Dispose();
        _stopping.Dispose();
    }

    internal void Connecting(string? error, int? attempts = null) =>
        Update(state => state.Without(ConnectionState.Connecting, Redact(error)) with { ReconnectAttempts = attempts ?? state.ReconnectAttempts });

    internal void Connected(UpstreamSession session) => Update(state => state.Connected(session, _time.GetUtcNow()));

    internal void Disconnected(ConnectionState state, string? reason) => Update(current => current.Without(state, Redact(reason)));

    internal void HealthChecked(bool healthy) => Update(state => state with { LastHealthCheck = _time.GetUtcNow(), Healthy = healthy });

    /// <summary>The upstream's tools changed while connected: the session is replaced with the new list.</summary>
    internal void ToolsChanged(UpstreamSession session, IReadOnlyList<Tool> tools) =>
        Update(state => ReferenceEquals(state.Session, session) ? state with { Session = session with { Tools = tools } } : state);

    /// <summary>
    /// Passes an upstream notification on. One a 2026-07-28 upstream sent on a listen stream loses the stream's id (the
    /// gateway's own, which means nothing downstream); one a replaced stream still carried is dropped, as its successor
    /// carries it too.
    /// </summary>
    internal ValueTask NotifyAsync(JsonRpcNotification notification)
    {
        if (Session?.Listen is { } listen)
        {
            if (!listen.Accepts(notification)) return ValueTask.CompletedTask;
            notification.Params.TryTakeMeta(MetaKeys.SubscriptionId, out _);
        }
        return _observer.OnNotificationAsync(this, notification);
    }

    internal string? Redact(string? text) => text is null ? null : Model.Secrets.Redact(text);

    internal void ReportOversized() => LogOversized(_logger, Name, Model.MaxResponseBytes);

    internal void ReportProgressLost(Exception ex) => LogProgressLost(_logger, Name, ex.Message);

    // Every change goes through here: the state is swapped whole, the connected signal follows it, the observer hears of it.
    private void Update(Func<UpstreamState, UpstreamState> change)
    {
        UpstreamState seen, next;
        do
        {
            seen = Volatile.Read(ref _state);
            next = change(seen);
        }
        while (Interlocked.CompareExchange(ref _state, next, seen) != seen);

        if (next.Session is { } session) Volatile.Read(ref _connected).TrySetResult(session);
        else if (seen.Session is not null) Volatile.Write(ref _connected, NewSignal());
        _observer.OnStatusChanged(this);
        if (!ReferenceEquals(seen.Session?.Tools, next.Session?.Tools)) _observer.OnToolsChanged(this);
    }

    private static TaskCompletionSource<UpstreamSession> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} sent a message over MaxResponseBytes ({Limit} bytes); it was not relayed")]
    private static partial void LogOversized(ILogger logger, string mcpName, long limit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A progress notification from MCP server {McpName} could not be delivered: {Error}")]
    private static partial void LogProgressLost(ILogger logger, string mcpName, string error);
}
