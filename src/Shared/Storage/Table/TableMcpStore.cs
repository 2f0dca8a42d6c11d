using System.Net.Sockets;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
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
/// </summary>
public sealed partial class TableMcpStore : IMcpStore, IMcpReportStore
{
    private const string DefinitionPartition = "mcp";
    private const string ReportPartitionPrefix = "report-";

    // Partition keys sort as strings; '.' follows '-', so this bounds every report partition.
    private const string ReportPartitionEnd = "report.";

    private readonly TableClient _table;
    private readonly AsyncOnce _tableCreated;
    private readonly ILogger _logger;

    public TableMcpStore(TableStoreOptions options, ILogger<TableMcpStore>? logger = null)
    {
        _logger = logger ?? NullLogger<TableMcpStore>.Instance;
        var clientOptions = new TableClientOptions();
        // One quick retry, each try bounded: an outage answers within a few seconds instead of Azure.Core's
        // default of three retries with back-off and a 100-second network timeout.
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Mode = RetryMode.Fixed;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.NetworkTimeout = options.Timeout / 2;
        _table = string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new TableClient(options.Endpoint ?? throw new ArgumentException("A connection string or an endpoint is required.", nameof(options)),
                options.TableName, AzureCredentials.Create(options.ManagedIdentityClientId), clientOptions)
            : new TableClient(options.ConnectionString, options.TableName, clientOptions);
        _tableCreated = new AsyncOnce(async ct => await _table.CreateIfNotExistsAsync(ct));
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
            throw new McpAlreadyExistsException(definition.Name);
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
            throw Refusal(ex, definition.Name);
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
        var entity = new TableEntity(DefinitionPartition, definition.Name);
        TableJson.Write(entity, json);
        return entity;
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

    private async Task<List<TableEntity>> QueryAsync(string filter, CancellationToken cancellationToken) =>
        await RunAsync(async ct =>
        {
            var entities = new List<TableEntity>();
            await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: ct)) entities.Add(entity);
            return entities;
        }, cancellationToken);

    /// <summary>Creates the table once, then runs the call, translating outages into <see cref="McpStoreUnavailableException"/>.</summary>
    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            await _tableCreated.EnsureAsync(cancellationToken);
            try
            {
                return await call(cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == "TableNotFound")
            {
                // The table was deleted after we created it (or an in-memory emulator restarted): make it again, once.
                LogTableRecreated(_logger, _table.Name);
                _tableCreated.Reset();
                await _tableCreated.EnsureAsync(cancellationToken);
                return await call(cancellationToken);
            }
        }
        catch (Exception ex) when (IsOutage(ex, cancellationToken))
        {
            LogUnavailable(_logger, ex);
            throw new McpStoreUnavailableException("Table storage is unreachable or did not answer in time.", ex);
        }
    }

    private static bool IsOutage(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        // Status 0: no response at all (refused, reset, DNS). 408/429/5xx: the service is there but cannot serve.
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        // Azure.Core's retry policy wraps the failures of every try once it gives up.
        AggregateException aggregate => aggregate.InnerExceptions.All(inner => IsOutage(inner, cancellationToken)),
        // The network timeout, as opposed to the caller giving up.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        AuthenticationFailedException => true,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Table {Table} was missing; creating it again")]
    private static partial void LogTableRecreated(ILogger logger, string table);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A Table storage call failed because the service is unavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
