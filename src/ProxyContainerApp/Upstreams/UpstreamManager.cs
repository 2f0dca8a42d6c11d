using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Proxy.Downstream;
using McpServerless.Proxy.Hosting;
using McpServerless.Proxy.Upstreams.Auth;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Keeps one <see cref="UpstreamConnection"/> per registered server, level-triggered: the change feed says
/// which name to look at, and the store says what it should be, at start, on every change notice and on every
/// <c>ReconcileInterval</c>. A lost, repeated or reordered notice therefore changes nothing in the end.
/// A new version replaces the connection live; a deleted server's connection is closed (stdio children
/// killed) and its downstream sessions ended. Status and tools are written back to the store for admin hosts
/// that hold no connections, on every change and every <c>ReconcileInterval</c>.
/// </summary>
public sealed partial class UpstreamManager(
    IMcpStore store,
    IRegistryChangeFeed feed,
    DownstreamSessions sessions,
    UpstreamCredentials credentials,
    IOptions<McpProxyOptions> options,
    TimeProvider time,
    ProxyInstruments instruments,
    ILoggerFactory loggerFactory) : BackgroundService, IMcpRuntimeView
{
    private readonly ConcurrentDictionary<string, UpstreamConnection> _connections = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly Channel<string> _reports = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    // A name to reconcile, or null for all of them (the feed may have missed notices).
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger = loggerFactory.CreateLogger<UpstreamManager>();

    public bool TryGet(string name, out UpstreamConnection connection) => _connections.TryGetValue(name, out connection!);

    public ICollection<UpstreamConnection> Connections => _connections.Values;

    public ValueTask<IReadOnlyDictionary<string, McpRuntimeStatus>> ListStatusesAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyDictionary<string, McpRuntimeStatus>>(
            _connections.Values.ToDictionary(c => c.Name, c => c.Status, StringComparer.Ordinal));

    public ValueTask<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<ToolInfo>>([.. _connections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).SelectMany(ToolInfos)]);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ObserveMetrics();
        var reporting = ReportLoopAsync(stoppingToken);
        var applying = ApplyChangesLoopAsync(stoppingToken);
        // The feed only queues the name: a publisher (an admin request, in-process) never waits for connections to open or close.
        await using var subscription = await feed.SubscribeAsync((change, _) =>
        {
            _changes.Writer.TryWrite(change.Kind == RegistryChangeKind.Resync ? null : change.Name);
            return ValueTask.CompletedTask;
        }, stoppingToken);
        using var timer = new PeriodicTimer(options.Value.ReconcileInterval, time);
        try
        {
            do
            {
                await ReconcileAllAsync(stoppingToken);
                // Re-reporting every interval makes a live instance's report the freshest, so what a vanished
                // replica last wrote stops showing, and an entry's age tells whether any replica still holds it.
                foreach (var name in _connections.Keys) _reports.Writer.TryWrite(name);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(reporting, applying);
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
            stored = await store.ListAsync(cancellationToken);
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
            stored = await store.GetAsync(name, cancellationToken);
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

    private async ValueTask ApplyAsync(StoredMcp stored)
    {
        var name = stored.Definition.Name;
        if (_connections.TryGetValue(name, out var current) && current.Version == stored.Version) return;

        var connection = new UpstreamConnection(stored, Limits, credentials.For(stored.Definition), options.Value.InstanceId, time, instruments, loggerFactory, OnChanged);
        connection.Notified += OnNotifiedAsync;
        _connections[name] = connection;
        connection.Start();
        LogApplied(_logger, name, stored.Version);

        if (current is null) return;
        // Sessions with a connection of their own hold the old definition: ending them makes their clients reopen on the new one.
        if (current.Definition.IsolateSessions || stored.Definition.IsolateSessions) sessions.EndAll(name);
        await CloseAsync(current);
    }

    /// <summary>
    /// Opens a private connection to <paramref name="shared"/>'s server for one downstream session of an
    /// <c>isolateSessions</c> server. The session owns it: its notifications are the session's alone, and it is not
    /// reported to the store (the shared connection stands for the server there).
    /// </summary>
    public UpstreamConnection OpenIsolated(UpstreamConnection shared)
    {
        var connection = new UpstreamConnection(new StoredMcp(shared.Definition, shared.Version), Limits, shared.Credential, options.Value.InstanceId, time, instruments, loggerFactory, static _ => { });
        connection.Start();
        return connection;
    }

    private UpstreamLimits Limits => new(options.Value.Limits.MaxConcurrentUpstreamRequests, options.Value.Limits.QueuedUpstreamRequests, options.Value.Limits.MaxResponseBytes);

    private async ValueTask RemoveAsync(string name)
    {
        if (!_connections.TryRemove(name, out var connection)) return;
        credentials.Forget(name);
        sessions.EndAll(name);
        await CloseAsync(connection);
        LogRemoved(_logger, name);
        if (store is IMcpReportStore reports)
        {
            try
            {
                await reports.RemoveReportsAsync(name);
            }
            catch (McpStoreException ex)
            {
                LogReportFailed(_logger, name, ex.Message);
            }
        }
        await sessions.BroadcastAsync(DownstreamSessions.Aggregate, new JsonRpcNotification { Method = NotificationMethods.ToolListChangedNotification });
    }

    private async ValueTask CloseAsync(UpstreamConnection connection)
    {
        connection.Notified -= OnNotifiedAsync;
        await connection.DisposeAsync();
    }

    private async ValueTask OnNotifiedAsync(UpstreamConnection connection, JsonRpcNotification notification)
    {
        await sessions.BroadcastAsync(connection.Name, notification);
        await sessions.BroadcastAsync(DownstreamSessions.Aggregate, notification);
    }

    private void ObserveMetrics()
    {
        instruments.Meter.CreateObservableGauge("mcp_gateway.upstream.connected",
            () => _connections.Values.Select(c => new Measurement<int>(c.Session is null ? 0 : 1, new KeyValuePair<string, object?>("mcp.server", c.Name))),
            description: "1 while the upstream MCP server is connected");
        instruments.Meter.CreateObservableUpDownCounter("mcp_gateway.sessions.active",
            () => sessions.CountByName().Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("mcp.server", p.Key.Length == 0 ? "(aggregate)" : p.Key))),
            description: "Open downstream MCP sessions");
    }

    private void OnChanged(UpstreamConnection connection) => _reports.Writer.TryWrite(connection.Name);

    /// <summary>Writes status and tools to the store, coalescing bursts of changes per server.</summary>
    private async Task ReportLoopAsync(CancellationToken stoppingToken)
    {
        if (store is not IMcpReportStore reports) return;
        var pending = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (await _reports.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_reports.Reader.TryRead(out var name)) pending.Add(name);
                foreach (var name in pending)
                {
                    if (!_connections.TryGetValue(name, out var connection)) continue;
                    try
                    {
                        await reports.ReportAsync(new McpInstanceReport(connection.Status, [.. ToolInfos(connection)]), stoppingToken);
                    }
                    catch (McpStoreException ex)
                    {
                        LogReportFailed(_logger, name, ex.Message);
                    }
                }
                pending.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static IEnumerable<ToolInfo> ToolInfos(UpstreamConnection connection) =>
        (connection.Session?.Tools ?? []).Select(t => new ToolInfo { Name = t.Name, Description = t.Description, InputSchema = t.InputSchema, McpName = connection.Name });

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying MCP server {McpName} version {Version}")]
    private static partial void LogApplied(ILogger logger, string mcpName, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed MCP server {McpName}")]
    private static partial void LogRemoved(ILogger logger, string mcpName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconcile with the store failed; retrying at the next interval: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report the status of {McpName}: {Error}")]
    private static partial void LogReportFailed(ILogger logger, string mcpName, string error);
}
