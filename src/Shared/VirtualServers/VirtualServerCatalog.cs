using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpServerless.VirtualServers;

/// <summary>
/// The virtual servers a proxy replica serves, compiled (<see cref="VirtualServerPlan"/>) and kept in line with the
/// store the way upstream connections are, level-triggered: at start, on every change notice about a virtual server
/// (<see cref="RegistryChange.Type"/>), on a resync, and every <c>ReconcileInterval</c>, so a lost, repeated or
/// reordered notice changes nothing in the end. Readers (the relay, per request) never wait: the plans are in a
/// concurrent dictionary and replaced whole.
/// </summary>
public sealed partial class VirtualServerCatalog(
    IVirtualServerStore store,
    IRegistryChangeFeed feed,
    IOptions<McpProxyOptions> options,
    TimeProvider time,
    ILogger<VirtualServerCatalog> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, (VirtualServerPlan Plan, string Version)> _plans = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reconciling = new(1, 1);

    // A name to reconcile, or null for all of them.
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Raised with a virtual server's name after it was added, replaced or removed here (<see cref="TryGet"/> tells which),
    /// so its sessions can get <c>notifications/tools/list_changed</c> or be ended. Runs on the reconcile loop: keep it quick.
    /// </summary>
    public event Action<string>? Changed;

    public bool TryGet(string name, [MaybeNullWhen(false)] out VirtualServerPlan plan)
    {
        var found = _plans.TryGetValue(name, out var entry);
        plan = entry.Plan;
        return found;
    }

    /// <summary>Every virtual server now served, in no particular order.</summary>
    public IEnumerable<VirtualServerPlan> Plans => _plans.Values.Select(e => e.Plan);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var applying = ApplyChangesLoopAsync(stoppingToken);
        await using var subscription = await feed.SubscribeAsync((change, _) =>
        {
            if (change.Kind == RegistryChangeKind.Resync) _changes.Writer.TryWrite(null);
            else if (change.Type == RegistryEntryType.VirtualServer) _changes.Writer.TryWrite(change.Name);
            return ValueTask.CompletedTask;
        }, stoppingToken);
        using var timer = new PeriodicTimer(options.Value.ReconcileInterval, time);
        try
        {
            do
            {
                await ReconcileAllAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await applying;
    }

    /// <summary>Brings every plan in line with the store.</summary>
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredVirtualServer> stored;
        try
        {
            stored = await store.ListVirtualServersAsync(cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(logger, ex.Message);
            return;
        }

        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            var wanted = stored.Select(s => s.Definition.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var name in _plans.Keys.Where(n => !wanted.Contains(n)).ToList()) Remove(name);
            foreach (var entry in stored) Apply(entry);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    /// <summary>Brings one virtual server in line with the store.</summary>
    public async Task ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        StoredVirtualServer? stored;
        try
        {
            stored = await store.GetVirtualServerAsync(name, cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(logger, ex.Message);
            return;
        }

        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            if (stored is null) Remove(name);
            else Apply(stored);
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

    private void Apply(StoredVirtualServer stored)
    {
        var name = stored.Definition.Name;
        if (_plans.TryGetValue(name, out var current) && current.Version == stored.Version) return;
        _plans[name] = (VirtualServerPlan.Create(stored.Definition), stored.Version);
        LogApplied(logger, name, stored.Version);
        RaiseChanged(name);
    }

    private void Remove(string name)
    {
        if (!_plans.TryRemove(name, out _)) return;
        LogRemoved(logger, name);
        RaiseChanged(name);
    }

    private void RaiseChanged(string name)
    {
        try
        {
            Changed?.Invoke(name);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(logger, ex, name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving virtual server {VirtualServer} version {Version}")]
    private static partial void LogApplied(ILogger logger, string virtualServer, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "No longer serving virtual server {VirtualServer}")]
    private static partial void LogRemoved(ILogger logger, string virtualServer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling virtual servers with the store failed; retrying at the next interval: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A handler of the change of virtual server {VirtualServer} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string virtualServer);
}
