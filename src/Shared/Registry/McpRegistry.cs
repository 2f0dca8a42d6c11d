using McpServerless.ChangeFeed;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.Validation;
using Microsoft.Extensions.Logging;

namespace McpServerless.Registry;

/// <summary>
/// Registry writes as every host performs them, for servers and virtual servers (one namespace, kept by one store):
/// validate, store, then tell the other instances. A failed notice is only logged: proxies also reconcile against
/// the store on an interval.
/// </summary>
public sealed partial class McpRegistry(IMcpStore store, IVirtualServerStore virtualServers, IRegistryChangeFeed feed, ILogger<McpRegistry> logger)
{
    public IMcpStore Store => store;

    public ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        store.GetAsync(name, cancellationToken);

    public ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default) =>
        store.ListAsync(cancellationToken);

    /// <exception cref="McpValidationException"/>
    /// <exception cref="McpAlreadyExistsException"/>
    public async Task<StoredMcp> RegisterAsync(McpDefinition definition, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(McpDefinitionValidator.Validate(definition), McpValidationException.InvalidServer);
        var stored = await store.AddAsync(definition, cancellationToken);
        LogRegistered(logger, definition.Name, definition.Transport);
        await PublishAsync(new(definition.Name, RegistryChangeKind.Upserted, stored.Version), cancellationToken);
        return stored;
    }

    /// <summary>
    /// Replaces a definition. The body may omit the name; masked secrets (<c>***</c>) keep their stored
    /// values. Without <paramref name="expectedVersion"/> the write is still guarded by the version just
    /// read, so a concurrent writer causes a conflict rather than a silent loss.
    /// </summary>
    /// <exception cref="McpValidationException"/>
    /// <exception cref="McpNotFoundException"/>
    /// <exception cref="McpVersionConflictException"/>
    public async Task<StoredMcp> UpdateAsync(string name, McpDefinition definition, string? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ThrowIfRenamed(name, definition.Name, McpValidationException.InvalidServer, "a server");
        var current = await store.GetAsync(name, cancellationToken) ?? throw new McpNotFoundException(name);
        if (expectedVersion is not null && expectedVersion != current.Version)
            throw new McpVersionConflictException(name);

        definition = (definition with { Name = name }).RestoreMasked(current.Definition);
        ThrowIfInvalid(McpDefinitionValidator.Validate(definition), McpValidationException.InvalidServer);
        var stored = await store.UpdateAsync(definition, current.Version, cancellationToken);
        LogUpdated(logger, name);
        await PublishAsync(new(name, RegistryChangeKind.Upserted, stored.Version), cancellationToken);
        return stored;
    }

    /// <exception cref="McpNotFoundException"/>
    /// <exception cref="McpVersionConflictException"/>
    public async Task UnregisterAsync(string name, string? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        await store.DeleteAsync(name, expectedVersion, cancellationToken);
        LogUnregistered(logger, name);
        await PublishAsync(new(name, RegistryChangeKind.Deleted, null), cancellationToken);
        if (store is IMcpReportStore reports) await reports.RemoveReportsAsync(name, cancellationToken);
    }

    public ValueTask<StoredVirtualServer?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default) =>
        virtualServers.GetVirtualServerAsync(name, cancellationToken);

    public ValueTask<IReadOnlyList<StoredVirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken = default) =>
        virtualServers.ListVirtualServersAsync(cancellationToken);

    /// <exception cref="McpValidationException"/>
    /// <exception cref="McpAlreadyExistsException">A server or a virtual server has the name.</exception>
    public async Task<StoredVirtualServer> RegisterVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(VirtualServerValidator.Validate(definition), McpValidationException.InvalidVirtualServer);
        var stored = await virtualServers.AddVirtualServerAsync(definition, cancellationToken);
        LogVirtualRegistered(logger, definition.Name);
        await PublishAsync(new(definition.Name, RegistryChangeKind.Upserted, stored.Version, RegistryEntryType.VirtualServer), cancellationToken);
        return stored;
    }

    /// <summary>Replaces a virtual server, as <see cref="UpdateAsync"/> does a server (masked tokens keep their stored values).</summary>
    /// <exception cref="McpValidationException"/>
    /// <exception cref="McpNotFoundException"/>
    /// <exception cref="McpVersionConflictException"/>
    public async Task<StoredVirtualServer> UpdateVirtualServerAsync(string name, VirtualServerDefinition definition, string? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        ThrowIfRenamed(name, definition.Name, McpValidationException.InvalidVirtualServer, "a virtual server");
        var current = await virtualServers.GetVirtualServerAsync(name, cancellationToken) ?? throw new McpNotFoundException(name, RegistryEntryType.VirtualServer);
        if (expectedVersion is not null && expectedVersion != current.Version)
            throw new McpVersionConflictException(name, RegistryEntryType.VirtualServer);

        definition = (definition with { Name = name }).RestoreMasked(current.Definition);
        ThrowIfInvalid(VirtualServerValidator.Validate(definition), McpValidationException.InvalidVirtualServer);
        var stored = await virtualServers.UpdateVirtualServerAsync(definition, current.Version, cancellationToken);
        LogVirtualUpdated(logger, name);
        await PublishAsync(new(name, RegistryChangeKind.Upserted, stored.Version, RegistryEntryType.VirtualServer), cancellationToken);
        return stored;
    }

    /// <exception cref="McpNotFoundException"/>
    /// <exception cref="McpVersionConflictException"/>
    public async Task UnregisterVirtualServerAsync(string name, string? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        await virtualServers.DeleteVirtualServerAsync(name, expectedVersion, cancellationToken);
        LogVirtualUnregistered(logger, name);
        await PublishAsync(new(name, RegistryChangeKind.Deleted, null, RegistryEntryType.VirtualServer), cancellationToken);
    }

    private static void ThrowIfRenamed(string name, string bodyName, string title, string what)
    {
        if (!string.IsNullOrEmpty(bodyName) && bodyName != name)
            throw new McpValidationException(new Dictionary<string, string[]> { ["name"] = [$"The body names '{bodyName}' but the URL names '{name}'; {what} cannot be renamed."] }, title);
    }

    private static void ThrowIfInvalid(Dictionary<string, string[]> errors, string title)
    {
        if (errors.Count > 0) throw new McpValidationException(errors, title);
    }

    private async ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken)
    {
        try
        {
            await feed.PublishAsync(change, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPublishFailed(logger, ex, change.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered MCP server {McpName} ({Transport})")]
    private static partial void LogRegistered(ILogger logger, string mcpName, McpTransport? transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "Updated MCP server {McpName}")]
    private static partial void LogUpdated(ILogger logger, string mcpName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unregistered MCP server {McpName}")]
    private static partial void LogUnregistered(ILogger logger, string mcpName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered virtual server {VirtualServer}")]
    private static partial void LogVirtualRegistered(ILogger logger, string virtualServer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Updated virtual server {VirtualServer}")]
    private static partial void LogVirtualUpdated(ILogger logger, string virtualServer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unregistered virtual server {VirtualServer}")]
    private static partial void LogVirtualUnregistered(ILogger logger, string virtualServer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the change of {McpName}; other instances pick it up at their next reconcile")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string mcpName);
}
