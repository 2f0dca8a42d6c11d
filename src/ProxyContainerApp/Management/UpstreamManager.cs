using System.Collections.Concurrent;
using System.Threading.Channels;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using McpServerless.Proxy.Upstreams.Auth;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Management;

/// <summary>
/// Keeps one <see cref="UpstreamConnection"/> per registered server, level-triggered: the change feed says which name
/// to look at, and the store says what it should be, at start, on every change notice and on every
/// <c>ReconcileInterval</c>. A lost, repeated or reordered notice therefore changes nothing in the end. A new version
/// replaces the connection live; a deleted server's connection is closed (stdio children killed). What happens is
/// told through <see cref="Changed"/> and <see cref="Notified"/>; statuses go to the store through a <see cref="StatusReporter"/>.
/// </summary>
public sealed partial class UpstreamManager : BackgroundService, IMcpRuntimeView, IUpstreamLookup, IUpstreamObserver
{
    private readonly ConcurrentDictionary<string, UpstreamConnection> _connections = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    // A name to reconcile, or null for all of them (the feed may have missed notices).
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IMcpStore _store;
    private readonly IRegistryChangeFeed _feed;
    private readonly IOptions<McpProxyOptions> _options;
    private readonly TimeProvider _time;
    private readonly ProxyInstruments _instruments;
    private readonly ILoggerFactory _loggerFactory;
    private readonly StatusReporter _reporter;
    private readonly UpstreamCredentials _credentials;
    private readonly ILogger _logger;

    public UpstreamManager(IMcpStore store, IRegistryChangeFeed feed, UpstreamCredentials credentials, IOptions<McpProxyOptions> options, TimeProvider time, ProxyInstruments instruments, ILoggerFactory loggerFactory)
    {
        (_store, _feed, _credentials, _options, _time, _instruments, _loggerFactory) = (store, feed, credentials, options, time, instruments, loggerFactory);
        _logger = loggerFactory.CreateLogger<UpstreamManager>();
        _reporter = new StatusReporter(store, _logger);
    }

    public event Func<UpstreamChange, ValueTask>? Changed;

    public event Func<UpstreamConnection, JsonRpcNotification, ValueTask>? Notified;

    public event Action<UpstreamConnection>? ToolsChanged;

    public bool TryGet(string name, out UpstreamConnection connection) => _connections.TryGetValue(name, out connection!);

    public IEnumerable<UpstreamConnection> Connections => _connections.Values;

    public ValueTask<IReadOnlyDictionary<string, McpRuntimeStatus>> ListStatusesAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyDictionary<string, McpRuntimeStatus>>(
            _connections.Values.ToDictionary(c => c.Name, c => c.Status, StringComparer.Ordinal));

    public ValueTask<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<ToolInfo>>([.. _connections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).SelectMany(StatusReporter.ToolInfos)]);

    public UpstreamConnection OpenIsolated(UpstreamConnection shared, IUpstreamObserver observer)
    {
        var connection = new UpstreamConnection(shared.Model, _options.Value.InstanceId, _time, _instruments, _loggerFactory, observer);
        connection.Start();
        return connection;
    }

    void IUpstreamObserver.OnStatusChanged(UpstreamConnection connection) => _reporter.Enqueue(connection);

    void IUpstreamObserver.OnToolsChanged(UpstreamConnection connection)
    {
        try
        {
            ToolsChanged?.Invoke(connection);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, connection.Name);
        }
    }

    async ValueTask IUpstreamObserver.OnNotificationAsync(UpstreamConnection connection, JsonRpcNotification notification)
    {
        foreach (var handler in Notified?.GetInvocationList().Cast<Func<UpstreamConnection, JsonRpcNotification, ValueTask>>() ?? [])
            await handler(connection, notification);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reporting = _reporter.RunAsync(name => _connections.GetValueOrDefault(name), stoppingToken);
        var applying = ApplyChangesLoopAsync(stoppingToken);
        // The feed only queues the name: a publisher (an admin request, in-process) never waits for connections to open or close.
        // Notices about virtual servers are the VirtualServerCatalog's.
        await using var subscription = await _feed.SubscribeAsync((change, _) =>
        {
            if (change.Kind == RegistryChangeKind.Resync) _changes.Writer.TryWrite(null);
            else if (change.Type == RegistryEntryType.Server) _changes.Writer.TryWrite(change.Name);
            return ValueTask.CompletedTask;
        }, stoppingToken);
        using var timer = new PeriodicTimer(_options.Value.ReconcileInterval, _time);
        try
        {
            do
            {
                await ReconcileAllAsync(stoppingToken);
                // Re-reporting every interval makes a live instance's report the freshest, so what a vanished
                // replica last wrote stops showing, and an entry's age tells whether any replica still holds it.
                foreach (var connection in _connections.Values) _reporter.Enqueue(connection);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(reporting, applying);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_connections.Keys.Select(name => RemoveAsync(name).AsTask()));
    }

    /// <summary>Brings every connection in line with the store.</summary>
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredMcp> stored;
        try
        {
            stored = await _store.ListAsync(cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(_logger, ex.Message);
            return;
        }

        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            var wanted = stored.ToDictionary(m => m.Definition.Name, StringComparer.Ordinal);
            foreach (var name in _connections.Keys.Where(n => !wanted.ContainsKey(n)).ToList())
                await RemoveAsync(name);
            foreach (var entry in wanted.Values)
                await ApplyAsync(entry);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    /// <summary>Brings one name in line with the store.</summary>
    public async Task ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        StoredMcp? stored;
        try
        {
            stored = await _store.GetAsync(name, cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(_logger, ex.Message);
            return;
        }

        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            if (stored is null) await RemoveAsync(name);
            else await ApplyAsync(stored);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    private async Task ApplyChangesLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var name in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                if (name is null) await ReconcileAllAsync(stoppingToken);
                else await ReconcileAsync(name, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async ValueTask ApplyAsync(StoredMcp stored)
    {
        var name = stored.Definition.Name;
        if (_connections.TryGetValue(name, out var current) && current.Model.Version == stored.Version) return;

        var limits = _options.Value.Limits;
        var model = new UpstreamModel(stored, new UpstreamLimits(limits.MaxConcurrentUpstreamRequests, limits.QueuedUpstreamRequests, limits.MaxResponseBytes),
            _credentials.For(stored.Definition));
        var connection = new UpstreamConnection(model, _options.Value.InstanceId, _time, _instruments, _loggerFactory, this);
        _connections[name] = connection;
        connection.Start();
        LogApplied(_logger, name, stored.Version);

        if (current is null) return;
        await RaiseAsync(new UpstreamChange(name, Removed: false, current.Model.Definition.IsolateSessions || model.Definition.IsolateSessions));
        await current.DisposeAsync();
    }

    private async ValueTask RemoveAsync(string name)
    {
        if (!_connections.TryRemove(name, out var connection)) return;
        _credentials.Forget(name);
        await RaiseAsync(new UpstreamChange(name, Removed: true, IsolationChanged: false));
        await connection.DisposeAsync();
        LogRemoved(_logger, name);
        await _reporter.RemoveAsync(name);
    }

    private async ValueTask RaiseAsync(UpstreamChange change)
    {
        foreach (var handler in Changed?.GetInvocationList().Cast<Func<UpstreamChange, ValueTask>>() ?? [])
            await handler(change);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying MCP server {McpName} version {Version}")]
    private static partial void LogApplied(ILogger logger, string mcpName, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed MCP server {McpName}")]
    private static partial void LogRemoved(ILogger logger, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A handler of the tool list change of {McpName} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconcile with the store failed; retrying at the next interval: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, string error);
}
