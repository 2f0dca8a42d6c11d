using McpServerless.ChangeFeed;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.Validation;
using Microsoft.Extensions.Logging;

namespace McpServerless.Registry;

/// <summary>
/// Registry writes as every host performs them: validate, store, then tell the other instances.
/// A failed notice is only logged: proxies also reconcile against the store on an interval.
/// </summary>
public sealed partial class McpRegistry(IMcpStore store, IRegistryChangeFeed feed, ILogger<McpRegistry> logger)
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
        ThrowIfInvalid(definition);
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
        if (!string.IsNullOrEmpty(definition.Name) && definition.Name != name)
            throw new McpValidationException(new Dictionary<string, string[]> { ["name"] = [$"The body names '{definition.Name}' but the URL names '{name}'; a server cannot be renamed."] });

        var current = await store.GetAsync(name, cancellationToken) ?? throw new McpNotFoundException(name);
        if (expectedVersion is not null && expectedVersion != current.Version)
            throw new McpVersionConflictException(name);

        definition = (definition with { Name = name }).RestoreMasked(current.Definition);
        ThrowIfInvalid(definition);
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

    private static void ThrowIfInvalid(McpDefinition definition)
    {
        var errors = McpDefinitionValidator.Validate(definition);
        if (errors.Count > 0) throw new McpValidationException(errors);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the change of {McpName}; other instances pick it up at their next reconcile")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string mcpName);
}
