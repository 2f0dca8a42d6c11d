using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using McpServerless.Configuration;
using McpServerless.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpServerless.Audit;

/// <summary>
/// Records audit entries without ever holding up or failing the call that made them: <see cref="Record"/> puts the
/// entry in a bounded queue and returns; when the queue is full the entry is dropped and counted
/// (<c>mcp_gateway.audit.dropped</c>, tag <c>reason</c>). A background pump logs each entry as a structured record in
/// the <see cref="LogCategory"/> category (so any OpenTelemetry log exporter or Application Insights keeps it) and
/// writes batches of up to <see cref="BatchSize"/> to the <see cref="IAuditStore"/>; a store failure is logged and
/// counted, never thrown. Stopping drains the queue within the host's shutdown timeout.
/// </summary>
public sealed partial class AuditLog : IHostedService, IDisposable
{
    /// <summary>The log category of the entries. The writer's own warnings use <c>McpServerless.Audit.AuditLog</c>.</summary>
    public const string LogCategory = "McpServerless.Audit";

    public const int BatchSize = 100;

    private static readonly KeyValuePair<string, object?> QueueFull = new("reason", "queue_full");
    private static readonly KeyValuePair<string, object?> StoreFailed = new("reason", "store_failed");
    private static readonly KeyValuePair<string, object?> Stopped = new("reason", "stopped");

    private readonly IAuditStore _store;
    private readonly TimeProvider _time;
    private readonly string _replica;
    private readonly bool _includeArguments;
    private readonly Channel<AuditEntry> _queue;
    private readonly Counter<long> _dropped;
    private readonly ILogger _entries;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abort = new();
    private Task _pump = Task.CompletedTask;
    private volatile bool _stopping;

    public AuditLog(IAuditStore store, IOptions<AuditOptions> options, IOptions<McpProxyOptions> proxy, TimeProvider time,
        IMeterFactory meterFactory, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        _store = store;
        _time = time;
        _replica = proxy.Value.InstanceId;
        IsEnabled = settings.Enabled;
        _includeArguments = settings.IncludeArguments;
        _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: refuse at once, so the drop is seen and counted
            SingleReader = true,
        });
        _dropped = meterFactory.Create(GatewayMetrics.MeterName)
            .CreateCounter<long>("mcp_gateway.audit.dropped", description: "Audit entries lost: queue full, store failed, or recorded during shutdown");
        _entries = loggerFactory.CreateLogger(LogCategory);
        _logger = loggerFactory.CreateLogger<AuditLog>();
    }

    /// <summary><see cref="AuditOptions.Enabled"/>: when false, nothing is recorded.</summary>
    public bool IsEnabled { get; }

    /// <summary>
    /// Starts timing one relayed call; <see cref="AuditScope.Complete"/> records it. Inert (and free) when auditing is
    /// off or <paramref name="method"/> is not audited (<see cref="AuditMethods.IsAudited"/>), so the relay may call it
    /// for every request.
    /// </summary>
    /// <param name="route">An <see cref="AuditRoutes"/> value.</param>
    /// <param name="server">The upstream server, once resolved (on the aggregated route, the one the call was routed to).</param>
    /// <param name="target">The tool or prompt name (the upstream's, without an aggregate prefix) or the resource URI.</param>
    /// <param name="arguments">The call's <c>arguments</c>; read only when <see cref="AuditOptions.IncludeArguments"/> is set.</param>
    public AuditScope Begin(string route, AuditCaller caller, string method, string? server, string? target, long requestBytes = 0, JsonNode? arguments = null) =>
        IsEnabled && AuditMethods.IsAudited(method)
            ? new AuditScope(this, new AuditEntry
            {
                Time = _time.GetUtcNow(),
                Caller = caller,
                Route = route,
                Method = method,
                Server = server,
                Tool = target,
                Outcome = AuditOutcomes.Ok,
                RequestBytes = requestBytes,
            }, _includeArguments ? arguments : null, _time.GetTimestamp())
            : default;

    /// <summary>Queues an entry for the log and the store (stamped with this replica); drops and counts it when the queue is full.</summary>
    public void Record(in AuditEntry entry)
    {
        if (!IsEnabled) return;
        if (!_queue.Writer.TryWrite(entry))
            _dropped.Add(1, _stopping ? Stopped : QueueFull);
    }

    internal void Complete(in AuditEntry started, JsonNode? arguments, long startedTimestamp, string outcome, long responseBytes, string? server, string? target) =>
        Record(started with
        {
            Server = server ?? started.Server,
            Tool = target ?? started.Tool,
            Outcome = outcome,
            DurationMs = Math.Round(_time.GetElapsedTime(startedTimestamp).TotalMilliseconds, 3),
            ResponseBytes = responseBytes,
            Arguments = arguments is null ? null : ArgumentRedaction.Redact(arguments),
        });

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsEnabled) _pump = Task.Run(PumpAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Writes what is queued, until <paramref name="cancellationToken"/> says the shutdown time is up.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        try
        {
            await _pump.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await _abort.CancelAsync();
            await _pump;
        }
    }

    public void Dispose() => _abort.Dispose();

    private async Task PumpAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<AuditEntry>(BatchSize);
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token))
            {
                while (batch.Count < BatchSize && reader.TryRead(out var entry))
                {
                    // Stamped here rather than in Record: one copy fewer on the caller's path.
                    entry = entry with { Replica = _replica };
                    batch.Add(entry);
                    Log(entry);
                }
                await WriteAsync(batch);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            _dropped.Add(batch.Count + reader.Count, Stopped);
        }
    }

    private async Task WriteAsync(List<AuditEntry> batch)
    {
        try
        {
            await _store.AppendAsync(batch, _abort.Token);
        }
        catch (Exception ex) when (!_abort.IsCancellationRequested)
        {
            LogStoreFailed(_logger, ex, batch.Count);
            _dropped.Add(batch.Count, StoreFailed);
        }
    }

    private void Log(in AuditEntry entry)
    {
        if (!_entries.IsEnabled(LogLevel.Information)) return;
        var caller = entry.Caller;
        if (entry.Arguments is { } arguments)
            LogEntryWithArguments(_entries, entry.Method, entry.Tool, entry.Server, entry.Route, entry.Outcome, entry.DurationMs, caller.Token, caller.Principal, caller.Ip,
                entry.RequestBytes, entry.ResponseBytes, entry.Replica, entry.Time, arguments.GetRawText());
        else
            LogEntry(_entries, entry.Method, entry.Tool, entry.Server, entry.Route, entry.Outcome, entry.DurationMs, caller.Token, caller.Principal, caller.Ip,
                entry.RequestBytes, entry.ResponseBytes, entry.Replica, entry.Time);
    }

    private const string EntryTemplate = "{Method} {Tool} on {Server} via {Route}: {Outcome} in {DurationMs} ms; caller token {CallerToken}, principal {CallerPrincipal}, address {ClientIp}; {RequestBytes} B in, {ResponseBytes} B out; replica {Replica} at {Time:O}";

    [LoggerMessage(EventId = 1, EventName = "AuditEntry", Level = LogLevel.Information, Message = EntryTemplate)]
    private static partial void LogEntry(ILogger logger, string method, string? tool, string? server, string route, string outcome, double durationMs,
        string? callerToken, string? callerPrincipal, string? clientIp, long requestBytes, long responseBytes, string? replica, DateTimeOffset time);

    [LoggerMessage(EventId = 2, EventName = "AuditEntryWithArguments", Level = LogLevel.Information, Message = EntryTemplate + "; arguments {Arguments}")]
    private static partial void LogEntryWithArguments(ILogger logger, string method, string? tool, string? server, string route, string outcome, double durationMs,
        string? callerToken, string? callerPrincipal, string? clientIp, long requestBytes, long responseBytes, string? replica, DateTimeOffset time, string arguments);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not store {Count} audit entries; they are in the log but not in the audit store")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, int count);
}

/// <summary>
/// One relayed call being timed for the audit log, from <see cref="AuditLog.Begin"/>; a struct, so timing costs no
/// allocation. <c>default</c> is inert: <see cref="Complete"/> then does nothing.
/// </summary>
public readonly struct AuditScope
{
    private readonly AuditLog? _log;
    private readonly AuditEntry _started;
    private readonly JsonNode? _arguments;
    private readonly long _startedTimestamp;

    internal AuditScope(AuditLog log, in AuditEntry started, JsonNode? arguments, long startedTimestamp)
    {
        _log = log;
        _started = started;
        _arguments = arguments;
        _startedTimestamp = startedTimestamp;
    }

    /// <summary>True when <see cref="Complete"/> records an entry: worth measuring the answer for.</summary>
    public bool IsRecording => _log is not null;

    /// <summary>
    /// Records the call with its outcome (<see cref="AuditOutcomes"/>) and the size of the answer; <paramref name="server"/>
    /// and <paramref name="target"/>, when given, are what routing resolved (on the aggregated route, the server the call
    /// went to and the upstream's own name for the tool), replacing what <see cref="AuditLog.Begin"/> was told.
    /// </summary>
    public void Complete(string outcome, long responseBytes = 0, string? server = null, string? target = null) =>
        _log?.Complete(_started, _arguments, _startedTimestamp, outcome, responseBytes, server, target);
}
