using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpServerless.VirtualServers;

/// <summary>
/// The virtual servers a proxy replica serves, compiled (<see cref="VirtualServerPlan"/>) and kept in line with the
/// store the way upstream connections are (<see cref="RegistryReconciler{TStored}"/>). Readers (the relay, per
/// request) never wait: the plans are in a concurrent dictionary and replaced whole.
/// </summary>
public sealed partial class VirtualServerCatalog(
    IVirtualServerStore store,
    IRegistryChangeFeed feed,
    IOptions<McpProxyOptions> options,
    TimeProvider time,
    ILogger<VirtualServerCatalog> logger) : RegistryReconciler<StoredVirtualServer>(feed, RegistryEntryType.VirtualServer, options, time, logger)
{
    private readonly ConcurrentDictionary<string, (VirtualServerPlan Plan, string Version)> _plans = new(StringComparer.Ordinal);

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

    protected override IEnumerable<string> LiveNames => _plans.Keys;

    protected override ValueTask<IReadOnlyList<StoredVirtualServer>> ListStoredAsync(CancellationToken cancellationToken) =>
        store.ListVirtualServersAsync(cancellationToken);

    protected override ValueTask<StoredVirtualServer?> GetStoredAsync(string name, CancellationToken cancellationToken) =>
        store.GetVirtualServerAsync(name, cancellationToken);

    protected override string NameOf(StoredVirtualServer stored) => stored.Definition.Name;

    protected override ValueTask ApplyAsync(StoredVirtualServer stored)
    {
        var name = stored.Definition.Name;
        if (_plans.TryGetValue(name, out var current) && current.Version == stored.Version) return ValueTask.CompletedTask;
        _plans[name] = (VirtualServerPlan.Create(stored.Definition), stored.Version);
        LogApplied(Logger, name, stored.Version);
        RaiseChanged(name);
        return ValueTask.CompletedTask;
    }

    protected override ValueTask RemoveAsync(string name)
    {
        if (_plans.TryRemove(name, out _))
        {
            LogRemoved(Logger, name);
            RaiseChanged(name);
        }
        return ValueTask.CompletedTask;
    }

    private void RaiseChanged(string name)
    {
        try
        {
            Changed?.Invoke(name);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(Logger, ex, name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving virtual server {VirtualServer} version {Version}")]
    private static partial void LogApplied(ILogger logger, string virtualServer, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "No longer serving virtual server {VirtualServer}")]
    private static partial void LogRemoved(ILogger logger, string virtualServer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A handler of the change of virtual server {VirtualServer} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string virtualServer);
}
