using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Data.Tables;
using McpServerless.Audit;
using McpServerless.Configuration;
using McpServerless.Serialization;
using Microsoft.Extensions.Logging;

namespace McpServerless.Storage.Table;

/// <summary>
/// The audit log in its own table (<see cref="AuditOptions.TableName"/>, on the registry's account), shared by every
/// replica. One partition per UTC day (<c>yyyyMMdd</c>); the row key starts with the inverted time, so a partition
/// reads newest first, and ends with a writer id and an inverted sequence number, so replicas never collide. Writes
/// are entity-group transactions of up to 100 entries per day. Filters run in the service (<c>Server</c>, <c>Tool</c>
/// and the caller's columns sit beside the JSON). Days wholly older than the retention are deleted by the writers,
/// at most <see cref="PruneBatch"/> entities per append so an append stays short.
/// </summary>
public sealed partial class TableAuditStore : IAuditStore
{
    public const int PruneBatch = 1000;

    private const int MaxTransaction = 100;
    private const string PartitionFormat = "yyyyMMdd";

    // Replicas' clocks drift: a query also looks at tomorrow's partition when midnight is this close.
    private static readonly TimeSpan ClockAllowance = TimeSpan.FromMinutes(10);

    private static readonly string[] KeysOnly = ["PartitionKey", "RowKey"];

    private readonly TableConnection _connection;
    private readonly ILogger _logger;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly string _writer = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private long _sequence;
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

    public TableAuditStore(TableStoreOptions table, AuditOptions options, TimeProvider time, ILogger<TableAuditStore> logger)
    {
        _connection = new TableConnection(table, options.TableName, logger);
        _logger = logger;
        _options = options;
        _time = time;
    }

    public async ValueTask AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        foreach (var day in entries.Select(ToEntity).GroupBy(e => e.PartitionKey))
        {
            foreach (var chunk in day.Chunk(MaxTransaction))
            {
                var actions = chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e));
                await _connection.RunAsync(ct => _connection.Table.SubmitTransactionAsync(actions, ct), cancellationToken);
            }
        }
        if (_time.GetUtcNow() < _nextPrune) return;
        try
        {
            await PruneAsync(cancellationToken);
        }
        catch (McpStoreUnavailableException ex)
        {
            // The entries are written; old days wait for the next append.
            LogPruneFailed(_logger, ex);
        }
    }

    public async ValueTask<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        var (startDay, after) = query.Cursor is null ? (Day(_time.GetUtcNow() + ClockAllowance), null) : ParseCursor(query.Cursor);
        var oldestAllowed = query.OldestAllowed(_time.GetUtcNow(), _options.Retention);
        // Row keys below this bound are at or after the oldest time allowed.
        var rowBound = InvertedTicks(oldestAllowed.AddTicks(-1));
        var oldestDay = Day(oldestAllowed);

        return await _connection.RunAsync(async ct =>
        {
            var found = new List<AuditEntry>(Math.Min(query.Limit, 64));
            var lastKey = "";
            for (var day = startDay; string.CompareOrdinal(day, oldestDay) >= 0; day = PreviousDay(day), after = null)
            {
                var filter = Filter(query, day, after, rowBound);
                await foreach (var entity in _connection.Table.QueryAsync<TableEntity>(filter, maxPerPage: query.Limit + 1, cancellationToken: ct))
                {
                    var entry = JsonSerializer.Deserialize(TableJson.Read(entity), GatewayJson.Default.AuditEntry);
                    if (!query.Matches(entry)) continue;
                    if (found.Count == query.Limit) return new AuditPage(found, AuditCursor.Encode(lastKey));
                    found.Add(entry);
                    lastKey = $"{day}/{entity.RowKey}";
                }
            }
            return new AuditPage(found, null);
        }, cancellationToken);
    }

    private TableEntity ToEntity(AuditEntry entry)
    {
        var json = JsonSerializer.Serialize(entry, GatewayJson.Default.AuditEntry);
        // Arguments are capped when recorded; this only guards the entity limit.
        if (!TableJson.Fits(json)) json = JsonSerializer.Serialize(entry with { Arguments = null }, GatewayJson.Default.AuditEntry);
        var sequence = long.MaxValue - Interlocked.Increment(ref _sequence);
        var entity = new TableEntity(Day(entry.Time), $"{InvertedTicks(entry.Time)}-{_writer}-{sequence:D19}")
        {
            ["Server"] = entry.Server,
            ["Tool"] = entry.Tool,
            ["CallerToken"] = entry.Caller.Token,
            ["CallerPrincipal"] = entry.Caller.Principal,
            ["CallerIp"] = entry.Caller.Ip,
        };
        TableJson.Write(entity, json);
        return entity;
    }

    private static string Filter(AuditQuery query, string day, string? after, string rowBound)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {day} and RowKey lt {rowBound}");
        if (after is not null) filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {after}");
        if (query.Server is { } server) filter += " and " + TableClient.CreateQueryFilter($"Server eq {server}");
        if (query.Tool is { } tool) filter += " and " + TableClient.CreateQueryFilter($"Tool eq {tool}");
        if (query.Caller is { } caller)
            filter += " and " + TableClient.CreateQueryFilter($"(CallerToken eq {caller.ToLowerInvariant()} or CallerPrincipal eq {caller} or CallerIp eq {caller})");
        return filter;
    }

    /// <summary>Deletes entities of days wholly older than the retention, a bounded number per call.</summary>
    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var filter = TableClient.CreateQueryFilter($"PartitionKey lt {Day(now - _options.Retention)}");
        var deleted = await _connection.RunAsync(async ct =>
        {
            var old = new List<TableEntity>(PruneBatch);
            await foreach (var entity in _connection.Table.QueryAsync<TableEntity>(filter, maxPerPage: PruneBatch, select: KeysOnly, cancellationToken: ct))
            {
                old.Add(entity);
                if (old.Count == PruneBatch) break;
            }
            foreach (var day in old.GroupBy(e => e.PartitionKey))
            {
                foreach (var chunk in day.Chunk(MaxTransaction))
                    await _connection.Table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, Azure.ETag.All)), ct);
            }
            return old.Count;
        }, cancellationToken);
        // Done for now: look again in an hour. More left: go on at the next append.
        if (deleted < PruneBatch) _nextPrune = now.AddHours(1);
    }

    private static string Day(DateTimeOffset time) => time.UtcDateTime.ToString(PartitionFormat, CultureInfo.InvariantCulture);

    private static string PreviousDay(string day) =>
        DateTime.ParseExact(day, PartitionFormat, CultureInfo.InvariantCulture).AddDays(-1).ToString(PartitionFormat, CultureInfo.InvariantCulture);

    private static string InvertedTicks(DateTimeOffset time) =>
        (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>"yyyyMMdd/rowKey": the day and row of the last entry returned.</summary>
    private static (string Day, string RowKey) ParseCursor(string cursor)
    {
        var position = AuditCursor.Decode(cursor);
        var slash = position.IndexOf('/', StringComparison.Ordinal);
        return slash == PartitionFormat.Length
            && DateTime.TryParseExact(position.AsSpan(0, slash), PartitionFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            && position.Length - slash - 1 is > 0 and <= 64
            ? (position[..slash], position[(slash + 1)..])
            : throw new InvalidAuditCursorException();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete audit entries older than the retention; trying again at the next write")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
