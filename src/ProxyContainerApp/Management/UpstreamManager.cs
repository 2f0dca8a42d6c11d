using System.Collections.Concurrent;
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
/// Keeps one <see cref="UpstreamConnection"/> per registered server, in line with the store as a
/// <see cref="RegistryReconciler{TStored}"/>. A new version replaces the connection live; a deleted server's
/// connection is closed (stdio children killed). What happens is told through <see cref="Changed"/> and
/// <see cref="Notified"/>; statuses go to the store through a <see cref="StatusReporter"/>.
/// </summary>
public sealed partial class UpstreamManager : RegistryReconciler<StoredMcp>, IMcpRuntimeView, IUpstreamLookup, IUpstreamObserver
{
    private readonly ConcurrentDictionary<string, UpstreamConnection> _connections = new(StringComparer.Ordinal);
    private readonly IMcpStore _store;
    private readonly IOptions<McpProxyOptions> _options;
    private readonly TimeProvider _time;
    private readonly ProxyInstruments _instruments;
    private readonly ILoggerFactory _loggerFactory;
    private readonly StatusReporter _reporter;
    private readonly UpstreamCredentials _credentials;

    public UpstreamManager(IMcpStore store, IRegistryChangeFeed feed, UpstreamCredentials credentials, IOptions<McpProxyOptions> options, TimeProvider time, ProxyInstruments instruments, ILoggerFactory loggerFactory)
        : base(feed, RegistryEntryType.Server, options, time, loggerFactory.CreateLogger<UpstreamManager>())
    {
        (_store, _credentials, _options, _time, _instruments, _loggerFactory) = (store, credentials, options, time, instruments, loggerFactory);
        _reporter = new StatusReporter(store, Logger);
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
            LogHandlerFailed(Logger, ex, connection.Name);
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
        await base.ExecuteAsync(stoppingToken);
        await reporting;
    }

    // Re-reporting every interval makes a live instance's report the freshest, so what a vanished replica last
    // wrote stops showing, and an entry's age tells whether any replica still holds it.
    protected override void OnIntervalReconciled()
    {
        foreach (var connection in _connections.Values) _reporter.Enqueue(connection);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_connections.Keys.Select(name => RemoveAsync(name).AsTask()));
    }

    protected override IEnumerable<string> LiveNames => _connections.Keys;

    protected override ValueTask<IReadOnlyList<StoredMcp>> ListStoredAsync(CancellationToken cancellationToken) => _store.ListAsync(cancellationToken);

    protected override ValueTask<StoredMcp?> GetStoredAsync(string name, CancellationToken cancellationToken) => _store.GetAsync(name, cancellationToken);

    protected override string NameOf(StoredMcp stored) => stored.Definition.Name;

    protected override async ValueTask ApplyAsync(StoredMcp stored)
    {
        var name = stored.Definition.Name;
        if (_connections.TryGetValue(name, out var current) && current.Model.Version == stored.Version) return;

        var limits = _options.Value.Limits;
        var model = new UpstreamModel(stored, new UpstreamLimits(limits.MaxConcurrentUpstreamRequests, limits.QueuedUpstreamRequests, limits.MaxResponseBytes),
            _credentials.For(stored.Definition));
        var connection = new UpstreamConnection(model, _options.Value.InstanceId, _time, _instruments, _loggerFactory, this);
        _connections[name] = connection;
        connection.Start();
        LogApplied(Logger, name, stored.Version);

        if (current is null) return;
        await RaiseAsync(new UpstreamChange(name, Removed: false, current.Model.Definition.IsolateSessions || model.Definition.IsolateSessions));
        await current.DisposeAsync();
    }

    protected override async ValueTask RemoveAsync(string name)
    {
        if (!_connections.TryRemove(name, out var connection)) return;
        _credentials.Forget(name);
        await RaiseAsync(new UpstreamChange(name, Removed: true, IsolationChanged: false));
        await connection.DisposeAsync();
        LogRemoved(Logger, name);
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
}
