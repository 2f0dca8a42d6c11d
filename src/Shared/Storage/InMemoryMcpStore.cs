using System.Collections.Concurrent;
using System.Globalization;
using McpServerless.Model;

namespace McpServerless.Storage;

/// <summary>
/// The default store: a process-local dictionary. Lock-free for readers; writers use the dictionary's
/// compare-and-swap operations so concurrent registrations of one name yield exactly one winner. Servers and
/// virtual servers live in the same dictionary, so that holds across the two kinds as well.
/// </summary>
public sealed class InMemoryMcpStore : IMcpStore, IVirtualServerStore, IMcpReportStore
{
    // Values are StoredMcp or StoredVirtualServer.
    private readonly ConcurrentDictionary<string, object> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, string Instance), McpInstanceReport> _reports = new();
    private long _lastVersion;

    public ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_entries.GetValueOrDefault(name) as StoredMcp);

    public ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<StoredMcp>>([.. _entries.Values.OfType<StoredMcp>().OrderBy(m => m.Definition.Name, StringComparer.Ordinal)]);

    public ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Add(definition.Name, new StoredMcp(definition, NextVersion())));

    public ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Update<StoredMcp>(definition.Name, expectedVersion, s => s.Version, version => new(definition, version)));

    public ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        Delete<StoredMcp>(name, expectedVersion, s => s.Version);
        return ValueTask.CompletedTask;
    }

    public ValueTask<StoredVirtualServer?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_entries.GetValueOrDefault(name) as StoredVirtualServer);

    public ValueTask<IReadOnlyList<StoredVirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<StoredVirtualServer>>([.. _entries.Values.OfType<StoredVirtualServer>().OrderBy(m => m.Definition.Name, StringComparer.Ordinal)]);

    public ValueTask<StoredVirtualServer> AddVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Add(definition.Name, new StoredVirtualServer(definition, NextVersion())));

    public ValueTask<StoredVirtualServer> UpdateVirtualServerAsync(VirtualServerDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Update<StoredVirtualServer>(definition.Name, expectedVersion, s => s.Version, version => new(definition, version)));

    public ValueTask DeleteVirtualServerAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        Delete<StoredVirtualServer>(name, expectedVersion, s => s.Version);
        return ValueTask.CompletedTask;
    }

    public ValueTask ReportAsync(McpInstanceReport report, CancellationToken cancellationToken = default)
    {
        _reports[(report.Status.Name, report.Status.Instance ?? "")] = report;
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<McpInstanceReport>> ListReportsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<McpInstanceReport>>([.. _reports.Values]);

    public ValueTask RemoveReportsAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach (var key in _reports.Keys)
        {
            if (key.Name == name) _reports.TryRemove(key, out _);
        }
        return ValueTask.CompletedTask;
    }

    private T Add<T>(string name, T stored)
        where T : class =>
        _entries.TryAdd(name, stored)
            ? stored
            : throw new McpAlreadyExistsException(name, TypeOf(_entries.GetValueOrDefault(name) ?? stored), TypeOf(stored));

    private T Update<T>(string name, string? expectedVersion, Func<T, string> versionOf, Func<string, T> create)
        where T : class
    {
        while (true)
        {
            var current = _entries.GetValueOrDefault(name) as T ?? throw new McpNotFoundException(name, TypeOf<T>());
            if (expectedVersion is not null && expectedVersion != versionOf(current))
                throw new McpVersionConflictException(name, TypeOf<T>());

            var updated = create(NextVersion());
            if (_entries.TryUpdate(name, updated, current)) return updated;
            if (expectedVersion is not null) throw new McpVersionConflictException(name, TypeOf<T>());
        }
    }

    private void Delete<T>(string name, string? expectedVersion, Func<T, string> versionOf)
        where T : class
    {
        while (true)
        {
            var current = _entries.GetValueOrDefault(name) as T ?? throw new McpNotFoundException(name, TypeOf<T>());
            if (expectedVersion is not null && expectedVersion != versionOf(current))
                throw new McpVersionConflictException(name, TypeOf<T>());
            if (_entries.TryRemove(KeyValuePair.Create(name, (object)current))) return;
            if (expectedVersion is not null) throw new McpVersionConflictException(name, TypeOf<T>());
        }
    }

    private static RegistryEntryType TypeOf(object entry) => entry is StoredVirtualServer ? RegistryEntryType.VirtualServer : RegistryEntryType.Server;

    private static RegistryEntryType TypeOf<T>() => typeof(T) == typeof(StoredVirtualServer) ? RegistryEntryType.VirtualServer : RegistryEntryType.Server;

    private string NextVersion() =>
        Interlocked.Increment(ref _lastVersion).ToString(CultureInfo.InvariantCulture);
}
