using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using McpServerless.Model;
using McpServerless.Proxy.Upstreams.Auth;
using McpServerless.Proxy.Hosting;
using McpServerless.Security;
using McpServerless.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Polly;
using Polly.Retry;

namespace McpServerless.Proxy.Upstreams;

/// <summary>What a live upstream offers; replaced whole on reconnect or tools/list_changed, so readers never lock.</summary>
public sealed record UpstreamSession(McpClient Client, Implementation? ServerInfo, ServerCapabilities Capabilities, string? Instructions, IReadOnlyList<Tool> Tools)
{
    // Kept with the list it was made from: a copy made `with { Tools = ... }` after list_changed must not serve the old one.
    private ToolsListing? _toolsResult;

    /// <summary>The <c>tools/list</c> result, serialized once per tool set: listing never goes upstream.</summary>
    public JsonNode ToolsResult => (_toolsResult is { } cached && ReferenceEquals(cached.Tools, Tools) ? cached : _toolsResult = new(Tools)).Result;

    private sealed class ToolsListing(IReadOnlyList<Tool> tools)
    {
        public IReadOnlyList<Tool> Tools { get; } = tools;

        public JsonNode Result { get; } = System.Text.Json.JsonSerializer.SerializeToNode(
            new ListToolsResult { Tools = [.. tools] }, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ListToolsResult)))!;
    }
}

/// <summary>
/// The gateway's one managed connection to a registered upstream server (<see cref="Definition"/> at
/// <see cref="Version"/>). A supervisor task connects, lists tools, health-checks with MCP <c>ping</c>, and
/// reconnects with exponential back-off and jitter (Polly) from <c>reconnectDelay</c>, at most
/// <c>maxReconnects</c> times per outage (0 = unlimited). Requests go straight to the current client; when the
/// connection drops they fail at once instead of waiting.
/// </summary>
public sealed partial class UpstreamConnection : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultHealthCheckInterval = TimeSpan.FromSeconds(30);

    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SecretRedactor _secrets;
    private readonly TimeProvider _time;
    private readonly string _instance;
    private readonly Action<UpstreamConnection> _onChanged;
    private readonly ProxyInstruments _instruments;
    private readonly ConcurrencyLimiter _concurrency;
    private readonly UpstreamLimits _limits;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _statusLock = new(); // guards the status fields below, read together by Status
    // Calls relayed for a downstream caller, by call number; a call's upstream progress token is gw-{number}.
    private readonly ConcurrentDictionary<long, CallerCall> _callerCalls = new();
    private TaskCompletionSource<UpstreamSession> _connected = NewConnectedSignal();
    private Task _supervisor = Task.CompletedTask;
    private long _calls;

    private volatile UpstreamSession? _session;
    private JsonNode? _toolsBeforeReconnect; // the last session's tools/list result, compared with the next session's
    private ConnectionState _state = ConnectionState.Disconnected;
    private string? _lastError;
    private DateTimeOffset? _connectedSince;
    private int _reconnectAttempts;
    private DateTimeOffset? _lastHealthCheck;
    private bool? _healthy;

    /// <param name="credential">The token source of the definition's <c>upstreamAuth</c>, shared by the server's connections; null for none.</param>
    public UpstreamConnection(StoredMcp stored, UpstreamLimits limits, UpstreamTokenSource? credential, string instance, TimeProvider time, ProxyInstruments instruments, ILoggerFactory loggerFactory, Action<UpstreamConnection> onChanged)
    {
        Credential = credential;
        _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = limits.MaxConcurrentRequests,
            QueueLimit = limits.QueuedRequests,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _limits = limits;
        _instruments = instruments;
        Definition = stored.Definition;
        Version = stored.Version;
        AccessRule = McpAccessRule.From(Definition);
        ToolFilter = new ToolFilterMatcher(Definition.ToolFilter);
        _instance = instance;
        _time = time;
        // Every error text is kept, returned and logged without the definition's header and env values (an upstream may echo them).
        _secrets = SecretRedactor.For(Definition);
        _loggerFactory = _secrets.IsEmpty ? loggerFactory : new RedactingLoggerFactory(loggerFactory, _secrets);
        _logger = _loggerFactory.CreateLogger<UpstreamConnection>();
        _onChanged = onChanged;
    }

    public string Name => Definition.Name;

    public McpDefinition Definition { get; }

    public string Version { get; }

    public McpAccessRule AccessRule { get; }

    /// <summary>The token this connection presents upstream (<c>upstreamAuth</c>); null for none.</summary>
    public UpstreamTokenSource? Credential { get; }

    public ToolFilterMatcher ToolFilter { get; }

    public TimeSpan Timeout => Definition.Timeout ?? DefaultTimeout;

    /// <summary>The largest message taken from this upstream: the server's own <c>maxResponseBytes</c>, else the gateway's limit.</summary>
    public long MaxResponseBytes => Definition.MaxResponseBytes ?? _limits.MaxResponseBytes;

    /// <summary>Requests being relayed upstream right now.</summary>
    public long InFlight => _limits.MaxConcurrentRequests - _concurrency.GetStatistics()!.CurrentAvailablePermits;

    /// <summary>The live session, or null while not connected.</summary>
    public UpstreamSession? Session => _session;

    /// <summary>Raised for upstream notifications every downstream session should see (list changes, resource updates, logs).</summary>
    public event Func<UpstreamConnection, JsonRpcNotification, ValueTask>? Notified;

    public McpRuntimeStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return new McpRuntimeStatus
                {
                    Name = Name,
                    State = _state,
                    LastError = _lastError,
                    ConnectedSince = _connectedSince,
                    ReconnectAttempts = _reconnectAttempts,
                    ToolCount = _session?.Tools.Count ?? 0,
                    LastHealthCheck = _lastHealthCheck,
                    Healthy = _healthy,
                    Instance = _instance,
                    ReportedAt = _time.GetUtcNow(),
                };
            }
        }
    }

    public void Start() => _supervisor = Task.Run(SuperviseAsync);

    /// <summary>Waits until the upstream is connected, up to <paramref name="timeout"/>; null if it is not by then.</summary>
    public async Task<UpstreamSession?> WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_session is { } session) return session;
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
    /// Sends a request upstream within <see cref="Timeout"/>. A progress token in <c>_meta</c> is swapped for a
    /// gateway-unique one so progress from a shared upstream reaches only <paramref name="caller"/>, and while the
    /// call is in flight the upstream's sampling and elicitation requests may be relayed to <paramref name="caller"/>.
    /// </summary>
    /// <exception cref="UpstreamException">Not connected, timed out, or the connection dropped.</exception>
    /// <exception cref="McpProtocolException">The upstream answered with a JSON-RPC error.</exception>
    public async Task<JsonRpcResponse> SendAsync(string method, JsonNode? parameters, McpServer? caller, CancellationToken cancellationToken)
    {
        var session = _session ?? throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{Name}' is not connected{(_lastError is null ? "" : $": {_lastError}")}.");
        var tool = method == RequestMethods.ToolsCall ? parameters?["name"].AsString() : null;
        using var activity = ProxyInstruments.ActivitySource.StartActivity($"mcp {method}", ActivityKind.Client);
        activity?.SetTag("mcp.server", Name);
        activity?.SetTag("mcp.tool", tool);

        using var lease = await _concurrency.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
            throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{Name}' has too many requests in flight; try again shortly.");

        StripHopMetadata(parameters);
        var number = Interlocked.Increment(ref _calls);
        CallerCall? call = null;
        if (caller is not null)
        {
            var original = parameters?["_meta"]?["progressToken"];
            call = new CallerCall(caller, original?.DeepClone());
            _callerCalls[number] = call;
            if (original is not null) parameters!["_meta"]!["progressToken"] = $"{ProgressTokenPrefix}{number}";
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var response = await session.Client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters }, timeout.Token);
            outcome = "ok";
            // Progress the upstream sent before its answer must reach the caller before the answer does.
            if (call is not null) await call.ProgressForwardedAsync();
            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            outcome = "timeout";
            throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{Name}' did not answer {method} within {Serialization.GoDuration.Format(Timeout)}.");
        }
        catch (Exception ex) when (Find<UpstreamMessageTooLargeException>(ex) is not null)
        {
            outcome = "too_large";
            LogOversized(_logger, Name, MaxResponseBytes);
            throw new UpstreamException(McpErrorCode.InternalError, TooLargeMessage, ex);
        }
        catch (McpProtocolException ex) when (_secrets.Reveals(ex.Message))
        {
            throw new McpProtocolException(_secrets.Redact(ex.Message), ex.ErrorCode);
        }
        catch (Exception ex) when (ex is not McpProtocolException)
        {
            throw new UpstreamException(McpErrorCode.InternalError, $"MCP server '{Name}' {Failure(ex)} during {method}.", ex);
        }
        finally
        {
            if (call is not null) _callerCalls.TryRemove(number, out _);
            _instruments.RecordRequest(Name, method, tool, outcome, Stopwatch.GetElapsedTime(started));
            activity?.SetTag("outcome", outcome);
        }
    }

    /// <summary>
    /// Removes the reserved <c>io.modelcontextprotocol/…</c> request metadata (protocol version, client info and
    /// capabilities of 2026-07-28 requests): it describes the downstream hop, and the upstream hop has its own session.
    /// </summary>
    private static void StripHopMetadata(JsonNode? parameters)
    {
        if (parameters?["_meta"] is not JsonObject meta) return;
        foreach (var key in meta.Select(p => p.Key).Where(k => k.StartsWith("io.modelcontextprotocol/", StringComparison.Ordinal)).ToList())
            meta.Remove(key);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _supervisor;
        }
        catch (OperationCanceledException)
        {
        }
        if (Interlocked.Exchange(ref _session, null) is { } session) await session.Client.DisposeAsync();
        SetState(ConnectionState.Disconnected, null);
        _concurrency.Dispose();
        _stopping.Dispose();
    }

    private async Task SuperviseAsync()
    {
        var stopping = _stopping.Token;
        var reconnect = Definition.AutoReconnect ? BuildReconnectPipeline(stopping) : ResiliencePipeline.Empty;
        while (!stopping.IsCancellationRequested)
        {
            UpstreamSession session;
            try
            {
                session = await reconnect.ExecuteAsync(ConnectOnceAsync, stopping);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogGaveUp(_logger, Name, Describe(ex)!);
                SetState(ConnectionState.Error, Describe(ex));
                return;
            }

            var reason = await MonitorAsync(session, stopping);
            _toolsBeforeReconnect = _session?.ToolsResult;
            _session = null;
            _connected = NewConnectedSignal();
            await session.Client.DisposeAsync();
            if (stopping.IsCancellationRequested) return;

            LogDisconnected(_logger, Name, reason);
            SetState(Definition.AutoReconnect ? ConnectionState.Connecting : ConnectionState.Error, reason);
            if (!Definition.AutoReconnect) return;
        }
    }

    private ResiliencePipeline BuildReconnectPipeline(CancellationToken stopping) =>
        new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(_ => !stopping.IsCancellationRequested),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Definition.ReconnectDelay ?? DefaultReconnectDelay,
                MaxDelay = MaxReconnectDelay,
                MaxRetryAttempts = Definition.MaxReconnects == 0 ? int.MaxValue : Definition.MaxReconnects,
                OnRetry = args =>
                {
                    _instruments.RecordReconnect(Name);
                    lock (_statusLock) _reconnectAttempts = args.AttemptNumber + 1;
                    LogRetrying(_logger, Name, args.AttemptNumber + 1, args.RetryDelay, Describe(args.Outcome.Exception));
                    SetState(ConnectionState.Connecting, Describe(args.Outcome.Exception));
                    return default;
                },
            })
            .Build();

    private async ValueTask<UpstreamSession> ConnectOnceAsync(CancellationToken stopping)
    {
        SetState(ConnectionState.Connecting, _lastError);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(Timeout);

        var transport = UpstreamTransports.Create(Definition, Timeout, MaxResponseBytes, Credential, _loggerFactory, OnReceived);
        McpClient client;
        try
        {
            client = await McpClient.CreateAsync(transport, ClientOptions(), _loggerFactory, timeout.Token);
        }
        catch
        {
            await transport.DisposeAsync();
            throw;
        }
        try
        {
            var session = new UpstreamSession(client, client.ServerInfo, client.ServerCapabilities, client.ServerInstructions,
                await ListToolsAsync(client, timeout.Token));
            _session = session;
            lock (_statusLock)
            {
                _connectedSince = _time.GetUtcNow();
                _reconnectAttempts = 0;
                _healthy = true;
            }
            SetState(ConnectionState.Connected, null);
            _connected.TrySetResult(session);
            LogConnected(_logger, Name, session.Tools.Count);
            // Sessions kept the old list through the outage; what changed meanwhile is news to them.
            if (Interlocked.Exchange(ref _toolsBeforeReconnect, null) is { } before && !JsonNode.DeepEquals(before, session.ToolsResult))
                await ForwardAsync(new JsonRpcNotification { Method = NotificationMethods.ToolListChangedNotification }, stopping);
            return session;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task<IReadOnlyList<Tool>> ListToolsAsync(McpClient client, CancellationToken cancellationToken)
    {
        if (client.ServerCapabilities.Tools is null) return [];
        var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        return [.. tools.Select(t => t.ProtocolTool).Where(t => ToolFilter.Allows(t.Name))];
    }

    /// <summary>Returns why the session ended: the client closed (a stdio child exiting is seen at once) or health checks failed.</summary>
    private async Task<string> MonitorAsync(UpstreamSession session, CancellationToken stopping)
    {
        using var monitoring = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var closed = session.Client.Completion;
        var health = Definition.HealthCheckEnabled ? HealthCheckAsync(session, monitoring.Token) : UntilStoppedAsync(monitoring.Token);
        var ended = await Task.WhenAny(closed, health);
        await monitoring.CancelAsync();
        if (ended == closed)
        {
            var details = await closed;
            return Describe(details.Exception) ?? "the upstream closed the connection";
        }
        try
        {
            return await health;
        }
        catch (OperationCanceledException)
        {
            return "stopped";
        }
    }

    private static async Task<string> UntilStoppedAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        return "stopped";
    }

    private async Task<string> HealthCheckAsync(UpstreamSession session, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Definition.HealthCheckInterval ?? DefaultHealthCheckInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            string? failure = null;
            try
            {
                await session.Client.PingAsync(cancellationToken: timeout.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"health check failed: {Describe(ex)}";
            }
            lock (_statusLock)
            {
                _lastHealthCheck = _time.GetUtcNow();
                _healthy = failure is null;
            }
            _onChanged(this);
            if (failure is not null)
            {
                LogUnhealthy(_logger, Name, failure);
                if (Definition.AutoReconnect) return failure;
            }
        }
        return "stopped";
    }

    /// <summary>
    /// The gateway speaks the last session-based revision upstream: every current server supports it, a shared
    /// long-lived connection wants a session anyway, and it skips the newer revision's discovery probe that some
    /// servers answer in ways that leave them uninitialized.
    /// </summary>
    public const string UpstreamProtocolVersion = "2025-11-25";

    private McpClientOptions ClientOptions() => new()
    {
        ProtocolVersion = UpstreamProtocolVersion,
        ClientInfo = new Implementation { Name = "mcp-serverless-gateway", Version = typeof(UpstreamConnection).Assembly.GetName().Version?.ToString() ?? "1.0.0" },
        Handlers = new McpClientHandlers
        {
            // Setting these makes the SDK advertise sampling and (form) elicitation upstream; roots are per client
            // and a shared connection has no one client to ask, so they are not advertised.
#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on, but current in the revision spoken upstream.
            SamplingHandler = (request, _, cancellationToken) => AskCallerAsync(RequestMethods.SamplingCreateMessage,
                c => c.Sampling is not null, new() { Sampling = new() }, caller => caller.SampleAsync(request!, cancellationToken)),
#pragma warning restore MCP9005
            ElicitationHandler = (request, cancellationToken) => AskCallerAsync(RequestMethods.ElicitationCreate,
                c => c.Elicitation is not null, new() { Elicitation = new() }, caller => caller.ElicitAsync(request!, cancellationToken)),
            NotificationHandlers =
            [
                new(NotificationMethods.ToolListChangedNotification, OnToolsChangedAsync),
                new(NotificationMethods.PromptListChangedNotification, ForwardAsync),
                new(NotificationMethods.ResourceListChangedNotification, ForwardAsync),
                new(NotificationMethods.ResourceUpdatedNotification, ForwardAsync),
                // Logging is deprecated in 2026-07-28 but clients of earlier revisions still receive log messages.
                new("notifications/message", ForwardAsync),
            ],
        },
    };

    // Relisting awaits a response that this client's own receive loop must read, so it cannot run inside the
    // notification handler (which that loop awaits): it runs on its own, then tells the sessions.
    private ValueTask OnToolsChangedAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        _ = Task.Run(async () =>
        {
            if (_session is not { } session) return;
            try
            {
                _session = session with { Tools = await ListToolsAsync(session.Client, _stopping.Token) };
                _onChanged(this);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRelistFailed(_logger, Name, Describe(ex)!);
            }
            await ForwardAsync(notification, _stopping.Token);
        }, CancellationToken.None);
        return ValueTask.CompletedTask;
    }

    private async ValueTask ForwardAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        if (Notified is { } handler) await handler(this, notification);
    }

    /// <summary>
    /// Relays a server-to-client request to the downstream session that caused it. Over a shared connection the only
    /// sign of that is who is waiting: exactly one session with requests in flight here is the one; with none or
    /// several the upstream gets a JSON-RPC error saying so, as it does when that client lacks the capability.
    /// </summary>
    private async ValueTask<TResult> AskCallerAsync<TResult>(string method, Func<ClientCapabilities, bool> supports, ClientCapabilities required, Func<McpServer, ValueTask<TResult>> ask)
    {
        McpServer? sole = null;
        foreach (var caller in _callerCalls.Values.Select(c => c.Caller))
        {
            if (sole is null || SameSession(sole, caller)) sole = caller;
            else throw new McpProtocolException($"The gateway cannot tell which of several client sessions using MCP server '{Name}' this {method} is for.", McpErrorCode.InvalidRequest);
        }
        if (sole is null)
            throw new McpProtocolException($"No client session is waiting on MCP server '{Name}' to take this {method}.", McpErrorCode.InvalidRequest);
        var declared = sole.ClientCapabilities is { } capabilities && supports(capabilities);
        if (sole.SessionId is null)
        {
            // A 2026-07-28 client that did not declare the capability gets the revision's own error, with its data.
            if (!declared) throw new MissingRequiredClientCapabilityException(required, $"MCP server '{Name}' needs the client capability for {method}, which this request did not declare.");
            // That revision replaces these requests with multi-round-trip results, which a shared upstream cannot give.
            throw new McpProtocolException($"The client session using MCP server '{Name}' is stateless (protocol {sole.NegotiatedProtocolVersion}) and cannot take {method}.", McpErrorCode.InvalidRequest);
        }
        if (!declared)
            throw new McpProtocolException($"The client session using MCP server '{Name}' does not support {method}.", McpErrorCode.InvalidRequest);
        return await ask(sole);
    }

    // Each request of a session has its own request-bound server object; the session id says they are one client.
    private static bool SameSession(McpServer a, McpServer b) => ReferenceEquals(a, b) || (a.SessionId is { } id && id == b.SessionId);

    // Runs in the SDK's read loop, in arrival order: progress is queued on its call before that call's response can
    // complete it, so SendAsync forwards every update sent before the answer.
    private JsonRpcMessage? OnReceived(JsonRpcMessage message)
    {
        // HTTP responses are held to the limit while they are read; a stdio line is only seen whole, so it is measured here.
        if (Definition.Transport == McpTransport.Stdio && IsOversized(message)) return Oversized(message);
        if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification } progress) RouteProgress(progress);
        return message;
    }

    private bool IsOversized(JsonRpcMessage message) => message switch
    {
        JsonRpcResponse response => JsonSize.Exceeds(response.Result, MaxResponseBytes),
        JsonRpcRequest request => JsonSize.Exceeds(request.Params, MaxResponseBytes),
        JsonRpcNotification notification => JsonSize.Exceeds(notification.Params, MaxResponseBytes),
        _ => false,
    };

    // A response becomes the error its caller gets; anything else over the limit is dropped.
    private JsonRpcError? Oversized(JsonRpcMessage message)
    {
        LogOversized(_logger, Name, MaxResponseBytes);
        OversizedGarbage.Reclaim();
        return message is JsonRpcResponse response
            ? new JsonRpcError { Id = response.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = TooLargeMessage } }
            : null;
    }

    private string TooLargeMessage => $"MCP server '{Name}' answered with a message over MaxResponseBytes ({MaxResponseBytes} bytes); the call was ended.";

    private void RouteProgress(JsonRpcNotification notification)
    {
        if (notification.Params?["progressToken"].AsString() is not { } token
            || !token.StartsWith(ProgressTokenPrefix, StringComparison.Ordinal)
            || !long.TryParse(token.AsSpan(ProgressTokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || !_callerCalls.TryGetValue(number, out var call) || call.OriginalProgressToken is not { } original)
            return;

        var parameters = notification.Params.DeepClone();
        parameters["progressToken"] = original.DeepClone();
        var stopping = _stopping.Token;
        call.EnqueueProgress(async () =>
        {
            try
            {
                await call.Caller.SendMessageAsync(new JsonRpcNotification { Method = notification.Method, Params = parameters }, stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProgressLost(_logger, Name, ex.Message);
            }
        });
    }

    private void SetState(ConnectionState state, string? error)
    {
        lock (_statusLock)
        {
            _state = state;
            _lastError = error is null ? null : _secrets.Redact(error);
            if (state != ConnectionState.Connected) _connectedSince = null;
        }
        _onChanged(this);
    }

    private string? Describe(Exception? ex) => ex switch
    {
        null => null,
        OperationCanceledException => "timed out",
        _ => _secrets.Redact(ex.Message),
    };

    /// <summary>What went wrong with a request the upstream did not answer with a JSON-RPC result or error.</summary>
    private string Failure(Exception ex) => Find<HttpRequestException>(ex) is { StatusCode: { } status } http
        ? $"answered HTTP {(int)status} ({_secrets.Redact(http.Message)})"
        : Find<TimeoutException>(ex) is not null
            ? "did not answer in time"
            // The SDK cancels the calls of a session whose transport closed.
            : ex is IOException or ObjectDisposedException or OperationCanceledException or ClientTransportClosedException || ex.InnerException is IOException || _session is null
                ? "lost its connection"
                : $"failed ({Describe(ex)})";

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found) return found;
        }
        return null;
    }

    private static TaskCompletionSource<UpstreamSession> NewConnectedSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const string ProgressTokenPrefix = "gw-";

    /// <summary>
    /// A call relayed for a downstream caller: who to ask on the upstream's behalf, and where its progress goes
    /// (forwards run one after another, in the order the upstream sent them).
    /// </summary>
    private sealed class CallerCall(McpServer caller, JsonNode? originalProgressToken)
    {
        private Task _progress = Task.CompletedTask;

        public McpServer Caller { get; } = caller;

        /// <summary>The caller's own progress token, or null when it asked for no progress.</summary>
        public JsonNode? OriginalProgressToken { get; } = originalProgressToken;

        public void EnqueueProgress(Func<Task> forward)
        {
            lock (this) _progress = _progress.ContinueWith(_ => forward(), TaskScheduler.Default).Unwrap();
        }

        public Task ProgressForwardedAsync()
        {
            lock (this) return _progress;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to MCP server {McpName} ({ToolCount} tools exposed)")]
    private static partial void LogConnected(ILogger logger, string mcpName, int toolCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string mcpName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconnecting to MCP server {McpName}, attempt {Attempt} in {Delay}: {Error}")]
    private static partial void LogRetrying(ILogger logger, string mcpName, int attempt, TimeSpan delay, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up connecting to MCP server {McpName}: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string mcpName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} is unhealthy: {Failure}")]
    private static partial void LogUnhealthy(ILogger logger, string mcpName, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not relist the tools of MCP server {McpName}: {Error}")]
    private static partial void LogRelistFailed(ILogger logger, string mcpName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} sent a message over MaxResponseBytes ({Limit} bytes); it was not relayed")]
    private static partial void LogOversized(ILogger logger, string mcpName, long limit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A progress notification from MCP server {McpName} could not be delivered: {Error}")]
    private static partial void LogProgressLost(ILogger logger, string mcpName, string error);
}

/// <summary>How many requests one upstream connection carries at once, how many more may wait, and its largest message by default.</summary>
public sealed record UpstreamLimits(int MaxConcurrentRequests, int QueuedRequests, long MaxResponseBytes);

/// <summary>A request the gateway could not complete upstream; becomes a JSON-RPC error for the caller.</summary>
public sealed class UpstreamException(McpErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public McpErrorCode Code { get; } = code;
}
