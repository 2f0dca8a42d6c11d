using System.Net.Sockets;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using McpServerless.Configuration;
using Microsoft.Extensions.Logging;

namespace McpServerless.Storage.Table;

/// <summary>
/// One table of the configured account, created on first use (and again if it is deleted under us), with every call
/// bounded and every outage surfacing as <see cref="McpStoreUnavailableException"/>. Shared by the Table stores.
/// </summary>
internal sealed partial class TableConnection
{
    private readonly AsyncOnce _tableCreated;
    private readonly ILogger _logger;

    public TableConnection(TableStoreOptions options, string tableName, ILogger logger)
    {
        _logger = logger;
        var clientOptions = new TableClientOptions();
        // One quick retry, each try bounded: an outage answers within a few seconds instead of Azure.Core's
        // default of three retries with back-off and a 100-second network timeout.
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Mode = RetryMode.Fixed;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.NetworkTimeout = options.Timeout / 2;
        options.ConfigureClient?.Invoke(clientOptions);
        Table = string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new TableClient(options.Endpoint ?? throw new ArgumentException("A connection string or an endpoint is required.", nameof(options)),
                tableName, AzureCredentials.Create(options.ManagedIdentityClientId), clientOptions)
            : new TableClient(options.ConnectionString, tableName, clientOptions);
        _tableCreated = new AsyncOnce(async ct => await Table.CreateIfNotExistsAsync(ct));
    }

    public TableClient Table { get; }

    public async Task<List<TableEntity>> QueryAsync(string filter, CancellationToken cancellationToken, IEnumerable<string>? select = null) =>
        await RunAsync(async ct =>
        {
            var entities = new List<TableEntity>();
            await foreach (var entity in Table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: ct)) entities.Add(entity);
            return entities;
        }, cancellationToken);

    /// <summary>Creates the table once, then runs the call, translating outages into <see cref="McpStoreUnavailableException"/>.</summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
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
                LogTableRecreated(_logger, Table.Name);
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
