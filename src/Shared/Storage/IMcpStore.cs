using McpServerless.Model;

namespace McpServerless.Storage;

/// <summary>A definition as stored, with the opaque version that guards concurrent writers.</summary>
public sealed record StoredMcp(McpDefinition Definition, string Version);

/// <summary>
/// The registry of upstream definitions. Every backend gives the same guarantees: names are unique (among servers
/// and the virtual servers of <see cref="IVirtualServerStore"/>, which every backend implements too), writes are atomic, and an update or delete that names a version fails with
/// <see cref="McpVersionConflictException"/> when another writer got there first.
/// Backends that cannot be reached throw <see cref="McpStoreUnavailableException"/>.
/// </summary>
public interface IMcpStore
{
    ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default);

    /// <exception cref="McpAlreadyExistsException">A server or a virtual server has the name.</exception>
    ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default);

    /// <param name="expectedVersion">The version the caller read, or null to overwrite whatever is stored.</param>
    /// <exception cref="McpNotFoundException">No definition has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default);

    /// <exception cref="McpNotFoundException">No definition has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default);
}

/// <summary>A virtual server definition as stored, with its version.</summary>
public sealed record StoredVirtualServer(VirtualServerDefinition Definition, string Version);

/// <summary>
/// The virtual servers, kept by the same store object as the servers because both share one namespace: an add of
/// either kind fails with <see cref="McpAlreadyExistsException"/> when a server or a virtual server has the name,
/// and of two concurrent adds of one name, of whatever kinds, exactly one succeeds. Each backend makes that check and
/// the write one atomic step: one dictionary for both kinds in memory, one Lua script over both hashes in Redis, one
/// entity per name (the kind a property of it) in the table's definition partition. Versions, conflicts and failures
/// behave as in <see cref="IMcpStore"/>; an entry of the other kind is "not found" to these methods.
/// </summary>
public interface IVirtualServerStore
{
    ValueTask<StoredVirtualServer?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<StoredVirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken = default);

    /// <exception cref="McpAlreadyExistsException">A server or a virtual server has the name.</exception>
    ValueTask<StoredVirtualServer> AddVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default);

    /// <exception cref="McpNotFoundException">No virtual server has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask<StoredVirtualServer> UpdateVirtualServerAsync(VirtualServerDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default);

    /// <exception cref="McpNotFoundException">No virtual server has that name.</exception>
    /// <exception cref="McpVersionConflictException">The stored version is not <paramref name="expectedVersion"/>.</exception>
    ValueTask DeleteVirtualServerAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default);
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
