using McpServerless.Model;

namespace McpServerless.Storage;

/// <summary>A definition as stored, with the opaque version that guards concurrent writers.</summary>
public sealed record StoredMcp(McpDefinition Definition, string Version);

/// <summary>
/// The registry of upstream definitions. Every backend gives the same guarantees: names are unique,
/// writes are atomic, and an update or delete that names a version fails with
/// <see cref="McpVersionConflictException"/> when another writer got there first.
/// Backends that cannot be reached throw <see cref="McpStoreUnavailableException"/>.
/// </summary>
public interface IMcpStore
{
    ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default);

    /// <exception cref="McpAlreadyExistsException">The name is taken.</exception>
    ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default);

    /// <param name="expectedVersion">The version the caller read, or null to overwrite whatever is stored.</param>
    /// <exception cref="McpNotFoundException">No definition has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default);

    /// <exception cref="McpNotFoundException">No definition has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default);
}

/// <summary>What one gateway instance last reported about one upstream: connection status and tools.</summary>
public sealed record McpInstanceReport(McpRuntimeStatus Status, IReadOnlyList<ToolInfo> Tools);

/// <summary>
/// Status and tool catalog written by the instances that hold upstream connections, so that an admin
/// API without connections (the Functions app) can still answer for them.
/// </summary>
public interface IMcpReportStore
{
    /// <summary>Stores the report, replacing the previous one from the same instance for the same server.</summary>
    ValueTask ReportAsync(McpInstanceReport report, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<McpInstanceReport>> ListReportsAsync(CancellationToken cancellationToken = default);

    /// <summary>Drops every instance's report for a server that is no longer registered.</summary>
    ValueTask RemoveReportsAsync(string name, CancellationToken cancellationToken = default);
}
