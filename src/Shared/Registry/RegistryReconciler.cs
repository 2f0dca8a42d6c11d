using System.Threading.Channels;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpServerless.Registry;

/// <summary>
/// Keeps what a replica holds live for one <see cref="RegistryEntryType"/> in line with the store, level-triggered:
/// the change feed only says which name to look at, and the store says what it should be, at start, on every notice
/// about that type, on a resync and every <c>ReconcileInterval</c>. A lost, repeated or reordered notice therefore
/// changes nothing in the end. Applies and removes never overlap (one lock serialises the interval's passes and the
/// notices'), so a subclass needs no lock of its own for them; a feed publisher (an admin request, in-process) never
/// waits for them.
/// </summary>
/// <typeparam name="TStored">An entry as the store holds it, with its version.</typeparam>
public abstract partial class RegistryReconciler<TStored> : BackgroundService where TStored : class
{
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    // A name to reconcile, or null for all of them (the feed may have missed notices).
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IRegistryChangeFeed _feed;
    private readonly RegistryEntryType _entryType;
    private readonly IOptions<McpProxyOptions> _options;
    private readonly TimeProvider _time;

    protected RegistryReconciler(IRegistryChangeFeed feed, RegistryEntryType entryType, IOptions<McpProxyOptions> options, TimeProvider time, ILogger logger)
    {
        (_feed, _entryType, _options, _time, Logger) = (feed, entryType, options, time, logger);
    }

    protected ILogger Logger { get; }

    /// <summary>The names that are live here now.</summary>
    protected abstract IEnumerable<string> LiveNames { get; }

    protected abstract ValueTask<IReadOnlyList<TStored>> ListStoredAsync(CancellationToken cancellationToken);

    protected abstract ValueTask<TStored?> GetStoredAsync(string name, CancellationToken cancellationToken);

    protected abstract string NameOf(TStored stored);

    /// <summary>Makes <paramref name="stored"/> live in place of what its name had; nothing when that is already this version.</summary>
    protected abstract ValueTask ApplyAsync(TStored stored);

    /// <summary>Takes <paramref name="name"/> down; nothing when it is not live.</summary>
    protected abstract ValueTask RemoveAsync(string name);

    /// <summary>Runs after each interval's reconcile of everything (the first at start).</summary>
    protected virtual void OnIntervalReconciled()
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var applying = ApplyChangesLoopAsync(stoppingToken);
        // The feed only queues the name, so its delivery path never waits for an apply.
        await using var subscription = await _feed.SubscribeAsync((change, _) =>
        {
            if (change.Kind == RegistryChangeKind.Resync) _changes.Writer.TryWrite(null);
            else if (change.Type == _entryType) _changes.Writer.TryWrite(change.Name);
            return ValueTask.CompletedTask;
        }, stoppingToken);
        using var timer = new PeriodicTimer(_options.Value.ReconcileInterval, _time);
        try
        {
            do
            {
                await ReconcileAllAsync(stoppingToken);
                OnIntervalReconciled();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await applying;
    }

    /// <summary>Brings every name in line with the store; a store that cannot be read leaves everything as it is.</summary>
    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<TStored> stored;
        try
        {
            stored = await ListStoredAsync(cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(Logger, _entryType, ex.Message);
            return;
        }

        await _reconciling.WaitAsync(cancellationToken);
        try
        {
            var wanted = stored.Select(NameOf).ToHashSet(StringComparer.Ordinal);
            foreach (var name in LiveNames.Where(n => !wanted.Contains(n)).ToList())
                await RemoveAsync(name);
            foreach (var entry in stored)
                await ApplyAsync(entry);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    /// <summary>Brings one name in line with the store; a store that cannot be read leaves it as it is.</summary>
    public async Task ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        TStored? stored;
        try
        {
            stored = await GetStoredAsync(name, cancellationToken);
        }
        catch (McpStoreException ex)
        {
            LogReconcileFailed(Logger, _entryType, ex.Message);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling {EntryType} entries with the store failed; retrying at the next interval: {Error}")]
    private static partial void LogReconcileFailed(ILogger logger, RegistryEntryType entryType, string error);
}
