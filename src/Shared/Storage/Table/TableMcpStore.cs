using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Azure;
using Azure.Data.Tables;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace McpServerless.Storage.Table;

/// <summary>
/// The registry in Azure Table Storage, in one table (created on first use):
/// partition <c>mcp</c> holds one entity per definition (row key = name, JSON in <c>Json</c>), servers and virtual
/// servers alike (a virtual server's entity has <c>Type = "virtual-server"</c>), so that one name is one entity and the
/// service's refusal of a second insert keeps the two kinds in one namespace;
/// partition <c>report-{name}</c> holds one entity per reporting instance.
/// The entity's ETag is the version, and the service checks it on every conditional write. An update or delete reads
/// the entity first, so that it can only ever replace or remove an entry of its own kind.
/// Each add or update stamps the entity with a write id: when a try lands but its answer is lost, the client's retry
/// meets its own write (409 on add, 412 on update) and recognises it instead of reporting a conflict.
/// </summary>
public sealed class TableMcpStore : IMcpStore, IVirtualServerStore, IMcpReportStore
{
    private const string DefinitionPartition = "mcp";
    private const string ReportPartitionPrefix = "report-";
    private const string WriteIdProperty = "WriteId";
    private const string TypeProperty = "Type";
    private const string VirtualServerType = "virtual-server";

    // Partition keys sort as strings; '.' follows '-', so this bounds every report partition.
    private const string ReportPartitionEnd = "report.";

    private readonly TableConnection _connection;
    private readonly TableClient _table;

    public TableMcpStore(TableStoreOptions options, ILogger<TableMcpStore>? logger = null)
    {
        _connection = new TableConnection(options, options.TableName, logger ?? NullLogger<TableMcpStore>.Instance);
        _table = _connection.Table;
    }

    public async ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        await GetEntityAsync(name, RegistryEntryType.Server, cancellationToken) is { } entity ? ToStoredMcp(entity) : null;

    public async ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListEntitiesAsync(RegistryEntryType.Server, cancellationToken)).Select(ToStoredMcp).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];

    public async ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default) =>
        new(definition, await AddEntityAsync(DefinitionEntity(RegistryEntryType.Server, definition.Name, Serialize(definition, GatewayJson.Default.McpDefinition)), cancellationToken));

    public async ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        new(definition, await UpdateEntityAsync(DefinitionEntity(RegistryEntryType.Server, definition.Name, Serialize(definition, GatewayJson.Default.McpDefinition)), expectedVersion, cancellationToken));

    public ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default) =>
        DeleteEntityAsync(name, RegistryEntryType.Server, expectedVersion, cancellationToken);

    public async ValueTask<StoredVirtualServer?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default) =>
        await GetEntityAsync(name, RegistryEntryType.VirtualServer, cancellationToken) is { } entity ? ToStoredVirtualServer(entity) : null;

    public async ValueTask<IReadOnlyList<StoredVirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListEntitiesAsync(RegistryEntryType.VirtualServer, cancellationToken)).Select(ToStoredVirtualServer).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];

    public async ValueTask<StoredVirtualServer> AddVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default) =>
        new(definition, await AddEntityAsync(DefinitionEntity(RegistryEntryType.VirtualServer, definition.Name, Serialize(definition, GatewayJson.Default.VirtualServerDefinition)), cancellationToken));

    public async ValueTask<StoredVirtualServer> UpdateVirtualServerAsync(VirtualServerDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        new(definition, await UpdateEntityAsync(DefinitionEntity(RegistryEntryType.VirtualServer, definition.Name, Serialize(definition, GatewayJson.Default.VirtualServerDefinition)), expectedVersion, cancellationToken));

    public ValueTask DeleteVirtualServerAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default) =>
        DeleteEntityAsync(name, RegistryEntryType.VirtualServer, expectedVersion, cancellationToken);

    public async ValueTask ReportAsync(McpInstanceReport report, CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.Serialize(report, GatewayJson.Default.McpInstanceReport);
        if (!TableJson.Fits(json))
            throw new InvalidOperationException($"The report of '{report.Status.Name}' is {json.Length} characters; Table storage holds at most {TableJson.MaxCharsPerProperty * TableJson.MaxProperties}.");
        var entity = new TableEntity(ReportPartitionPrefix + report.Status.Name, ReportRowKey(report.Status.Instance));
        TableJson.Write(entity, json);
        await RunAsync(ct => _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken);
    }

    public async ValueTask<IReadOnlyList<McpInstanceReport>> ListReportsAsync(CancellationToken cancellationToken = default)
    {
        var entities = await QueryAsync($"PartitionKey gt '{ReportPartitionPrefix}' and PartitionKey lt '{ReportPartitionEnd}'", cancellationToken);
        return [.. entities.Select(e => JsonSerializer.Deserialize(TableJson.Read(e), GatewayJson.Default.McpInstanceReport)!)];
    }

    public async ValueTask RemoveReportsAsync(string name, CancellationToken cancellationToken = default)
    {
        var partition = ReportPartitionPrefix + name;
        var entities = await QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken);
        // One delete per instance (a handful): a batch would fail as a whole when another remover got there first.
        foreach (var entity in entities)
        {
            await RunAsync(ct => _table.DeleteEntityAsync(partition, entity.RowKey, ETag.All, ct), cancellationToken);
        }
    }

    private async Task<TableEntity?> GetEntityAsync(string name, RegistryEntryType type, CancellationToken cancellationToken)
    {
        var response = await RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(DefinitionPartition, name, cancellationToken: ct), cancellationToken);
        return response.HasValue && TypeOf(response.Value!) == type ? response.Value : null;
    }

    private async Task<IEnumerable<TableEntity>> ListEntitiesAsync(RegistryEntryType type, CancellationToken cancellationToken) =>
        // Entities written before virtual servers existed have no Type, and a filter on a missing property matches nothing.
        (await QueryAsync($"PartitionKey eq '{DefinitionPartition}'", cancellationToken)).Where(e => TypeOf(e) == type);

    private async Task<string> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            var response = await RunAsync(ct => _table.AddEntityAsync(entity, ct), cancellationToken);
            return ToVersion(response.Headers.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var current = await RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(DefinitionPartition, entity.RowKey, cancellationToken: ct), cancellationToken);
            if (current.HasValue && IsWrite(current.Value!, entity)) return ToVersion(current.Value!.ETag);
            throw new McpAlreadyExistsException(entity.RowKey, current.HasValue ? TypeOf(current.Value!) : TypeOf(entity), TypeOf(entity));
        }
    }

    /// <summary>Replaces the entry of the entity's kind, conditional on the version read first (see the class remarks).</summary>
    private async Task<string> UpdateEntityAsync(TableEntity entity, string? expectedVersion, CancellationToken cancellationToken)
    {
        var (name, type) = (entity.RowKey, TypeOf(entity));
        while (true)
        {
            var current = await GetEntityAsync(name, type, cancellationToken) ?? throw new McpNotFoundException(name, type);
            if (expectedVersion is not null && ToVersion(current.ETag) != expectedVersion) throw new McpVersionConflictException(name, type);
            try
            {
                var response = await RunAsync(ct => _table.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, ct), cancellationToken);
                return ToVersion(response.Headers.ETag);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                if (ex.Status == 404) throw new McpNotFoundException(name, type);
                if (await OwnWriteAsync(entity, cancellationToken) is { } own) return own;
                if (expectedVersion is not null) throw new McpVersionConflictException(name, type);
                // Another writer came between the read and the write: an unversioned update applies to what is stored now.
            }
        }
    }

    private async ValueTask DeleteEntityAsync(string name, RegistryEntryType type, string? expectedVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await GetEntityAsync(name, type, cancellationToken) ?? throw new McpNotFoundException(name, type);
            if (expectedVersion is not null && ToVersion(current.ETag) != expectedVersion) throw new McpVersionConflictException(name, type);
            Response response;
            try
            {
                response = await RunAsync(ct => _table.DeleteEntityAsync(DefinitionPartition, name, current.ETag, ct), cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                if (ex.Status == 404) throw new McpNotFoundException(name, type);
                if (expectedVersion is not null) throw new McpVersionConflictException(name, type);
                continue; // another writer came between the read and the delete: an unversioned delete takes what is stored now
            }
            // The SDK treats deleting an absent entity as success and only reports the 404.
            if (response.Status == 404) throw new McpNotFoundException(name, type);
            return;
        }
    }

    private static TableEntity DefinitionEntity(RegistryEntryType type, string name, string json)
    {
        if (!TableJson.Fits(json))
            throw new McpValidationException(new Dictionary<string, string[]>
            {
                [""] = [$"The definition is {json.Length} characters of JSON; Table storage holds at most {TableJson.MaxCharsPerProperty * TableJson.MaxProperties}."],
            }, type == RegistryEntryType.VirtualServer ? McpValidationException.InvalidVirtualServer : McpValidationException.InvalidServer);
        var entity = new TableEntity(DefinitionPartition, name) { [WriteIdProperty] = Guid.NewGuid().ToString("N") };
        if (type == RegistryEntryType.VirtualServer) entity[TypeProperty] = VirtualServerType;
        TableJson.Write(entity, json);
        return entity;
    }

    /// <summary>The version of the entity now stored when it is <paramref name="written"/> itself (an earlier try landed).</summary>
    private async Task<string?> OwnWriteAsync(TableEntity written, CancellationToken cancellationToken)
    {
        var current = await RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(written.PartitionKey, written.RowKey, cancellationToken: ct), cancellationToken);
        return current.HasValue && IsWrite(current.Value!, written) ? ToVersion(current.Value!.ETag) : null;
    }

    private static bool IsWrite(TableEntity stored, TableEntity written) =>
        stored.GetString(WriteIdProperty) == written.GetString(WriteIdProperty);

    private static RegistryEntryType TypeOf(TableEntity entity) =>
        entity.GetString(TypeProperty) == VirtualServerType ? RegistryEntryType.VirtualServer : RegistryEntryType.Server;

    private static string Serialize<T>(T definition, JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(definition, typeInfo);

    private static StoredMcp ToStoredMcp(TableEntity entity) =>
        new(JsonSerializer.Deserialize(TableJson.Read(entity), GatewayJson.Default.McpDefinition)!, ToVersion(entity.ETag));

    private static StoredVirtualServer ToStoredVirtualServer(TableEntity entity) =>
        new(JsonSerializer.Deserialize(TableJson.Read(entity), GatewayJson.Default.VirtualServerDefinition)!, ToVersion(entity.ETag));

    // Instance ids are host names in practice, but a row key must not hold '/', '\', '#', '?' or control characters.
    private static string ReportRowKey(string? instance) => "i" + Uri.EscapeDataString(instance ?? "");

    /// <summary>
    /// Table ETags are always weak (<c>W/"datetime'…'"</c>). The version is the quoted part alone, because the admin
    /// API sends the version inside its own ETag header, where quotes are not allowed.
    /// </summary>
    private static string ToVersion(ETag? etag)
    {
        var text = etag?.ToString() ?? throw new InvalidDataException("The table service returned no ETag.");
        return text.StartsWith("W/", StringComparison.Ordinal) ? text[2..].Trim('"') : text.Trim('"');
    }


    private Task<List<TableEntity>> QueryAsync(string filter, CancellationToken cancellationToken) =>
        _connection.QueryAsync(filter, cancellationToken);

    private Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _connection.RunAsync(call, cancellationToken);
}
