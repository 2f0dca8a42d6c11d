using System.Collections.Concurrent;
using System.Globalization;
using McpServerless.Model;

namespace McpServerless.Storage;

/// <summary>
/// The default store: a process-local dictionary. Lock-free for readers; writers use the dictionary's
/// compare-and-swap operations so concurrent registrations of one name yield exactly one winner.
/// </summary>
public sealed class InMemoryMcpStore : IMcpStore, IMcpReportStore
{
    private readonly ConcurrentDictionary<string, StoredMcp> _definitions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, string Instance), McpInstanceReport> _reports = new();
    private long _lastVersion;

    public ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_definitions.GetValueOrDefault(name));

    public ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<StoredMcp>>([.. _definitions.Values.OrderBy(m => m.Definition.Name, StringComparer.Ordinal)]);

    public ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default)
    {
        var stored = new StoredMcp(definition, NextVersion());
        return _definitions.TryAdd(definition.Name, stored)
            ? ValueTask.FromResult(stored)
            : throw new McpAlreadyExistsException(definition.Name);
    }

    public ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var current = _definitions.GetValueOrDefault(definition.Name) ?? throw new McpNotFoundException(definition.Name);
            if (expectedVersion is not null && expectedVersion != current.Version)
                throw new McpVersionConflictException(definition.Name);

            var updated = new StoredMcp(definition, NextVersion());
            if (_definitions.TryUpdate(definition.Name, updated, current)) return ValueTask.FromResult(updated);
            if (expectedVersion is not null) throw new McpVersionConflictException(definition.Name);
        }
    }

    public ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var current = _definitions.GetValueOrDefault(name) ?? throw new McpNotFoundException(name);
            if (expectedVersion is not null && expectedVersion != current.Version)
                throw new McpVersionConflictException(name);
            if (_definitions.TryRemove(KeyValuePair.Create(name, current))) return ValueTask.CompletedTask;
            if (expectedVersion is not null) throw new McpVersionConflictException(name);
        }
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

    private string NextVersion() =>
        Interlocked.Increment(ref _lastVersion).ToString(CultureInfo.InvariantCulture);
}
