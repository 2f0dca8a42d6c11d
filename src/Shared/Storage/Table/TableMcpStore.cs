using System.Text.Json;
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
/// partition <c>mcp</c> holds one entity per definition (row key = name, JSON in <c>Json</c>);
/// partition <c>report-{name}</c> holds one entity per reporting instance.
/// The entity's ETag is the version, and the service checks it on every conditional write.
/// Each add or update stamps the entity with a write id: when a try lands but its answer is lost, the client's retry
/// meets its own write (409 on add, 412 on update) and recognises it instead of reporting a conflict.
/// </summary>
public sealed class TableMcpStore : IMcpStore, IMcpReportStore
{
    private const string DefinitionPartition = "mcp";
    private const string ReportPartitionPrefix = "report-";
    private const string WriteIdProperty = "WriteId";

    // Partition keys sort as strings; '.' follows '-', so this bounds every report partition.
    private const string ReportPartitionEnd = "report.";

    private readonly TableConnection _connection;
    private readonly TableClient _table;

    public TableMcpStore(TableStoreOptions options, ILogger<TableMcpStore>? logger = null)
    {
        _connection = new TableConnection(options, options.TableName, logger ?? NullLogger<TableMcpStore>.Instance);
        _table = _connection.Table;
    }

    public async ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var response = await RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(DefinitionPartition, name, cancellationToken: ct), cancellationToken);
        return response.HasValue ? ToStored(response.Value!) : null;
    }

    public async ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default)
    {
        var entities = await QueryAsync($"PartitionKey eq '{DefinitionPartition}'", cancellationToken);
        return [.. entities.Select(ToStored).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];
    }

    public async ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default)
    {
        var entity = DefinitionEntity(definition);
        try
        {
            var response = await RunAsync(ct => _table.AddEntityAsync(entity, ct), cancellationToken);
            return new StoredMcp(definition, ToVersion(response.Headers.ETag));
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return await OwnWriteAsync(entity, cancellationToken) ?? throw new McpAlreadyExistsException(definition.Name);
        }
    }

    public async ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        var entity = DefinitionEntity(definition);
        try
        {
            var response = await RunAsync(ct => _table.UpdateEntityAsync(entity, ToETag(expectedVersion), TableUpdateMode.Replace, ct), cancellationToken);
            return new StoredMcp(definition, ToVersion(response.Headers.ETag));
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return (ex.Status == 412 ? await OwnWriteAsync(entity, cancellationToken) : null) ?? throw Refusal(ex, definition.Name);
        }
    }

    public async ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        Response response;
        try
        {
            response = await RunAsync(ct => _table.DeleteEntityAsync(DefinitionPartition, name, ToETag(expectedVersion), ct), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            throw Refusal(ex, name);
        }
        // The SDK treats deleting an absent entity as success and only reports the 404.
        if (response.Status == 404) throw new McpNotFoundException(name);
    }

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

    private static TableEntity DefinitionEntity(McpDefinition definition)
    {
        var json = JsonSerializer.Serialize(definition, GatewayJson.Default.McpDefinition);
        if (!TableJson.Fits(json))
            throw new McpValidationException(new Dictionary<string, string[]>
            {
                [""] = [$"The definition is {json.Length} characters of JSON; Table storage holds at most {TableJson.MaxCharsPerProperty * TableJson.MaxProperties}."],
            });
        var entity = new TableEntity(DefinitionPartition, definition.Name) { [WriteIdProperty] = Guid.NewGuid().ToString("N") };
        TableJson.Write(entity, json);
        return entity;
    }

    /// <summary>The stored entry when the entity now stored is <paramref name="written"/> itself (an earlier try landed).</summary>
    private async Task<StoredMcp?> OwnWriteAsync(TableEntity written, CancellationToken cancellationToken)
    {
        var current = await RunAsync(ct => _table.GetEntityIfExistsAsync<TableEntity>(written.PartitionKey, written.RowKey, cancellationToken: ct), cancellationToken);
        return current.HasValue && current.Value!.GetString(WriteIdProperty) == written.GetString(WriteIdProperty) ? ToStored(current.Value) : null;
    }

    private static StoredMcp ToStored(TableEntity entity) =>
        new(JsonSerializer.Deserialize(TableJson.Read(entity), GatewayJson.Default.McpDefinition)!, ToVersion(entity.ETag));

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

    private static ETag ToETag(string? version) => version is null ? ETag.All : new ETag($"W/\"{version}\"");

    private static McpStoreException Refusal(RequestFailedException ex, string name) =>
        ex.Status == 404 ? new McpNotFoundException(name) : new McpVersionConflictException(name);

    private Task<List<TableEntity>> QueryAsync(string filter, CancellationToken cancellationToken) =>
        _connection.QueryAsync(filter, cancellationToken);

    private Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _connection.RunAsync(call, cancellationToken);
}
