using System.Globalization;
using System.Text.Json;
using McpServerless.Audit;
using McpServerless.Configuration;
using McpServerless.Serialization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace McpServerless.Storage.Redis;

/// <summary>
/// The audit log in one Redis stream, <c>{KeyPrefix}audit</c>, shared by every replica. Stream ids carry the entry's
/// time in milliseconds (raised to the last id when a replica's clock lags, so ids stay increasing), which makes
/// retention an exact <c>XTRIM MINID</c> and a time bound a plain id range. <see cref="AuditOptions.Capacity"/> bounds
/// the stream with <c>XTRIM MAXLEN ~</c>, and the key expires when nothing was written for a whole retention period.
/// Filters are applied while reading newest first; a query reads at most <see cref="MaxScanned"/> entries, so a rare
/// match far back answers with a partial page and a cursor to go on from. Its own connection keeps audit reads from
/// queueing behind registry commands.
/// </summary>
public sealed class RedisAuditStore : IAuditStore, IAsyncDisposable
{
    public const int MaxScanned = 10_000;

    // KEYS[1] = stream. ARGV[1] = oldest id kept, ARGV[2] = capacity, ARGV[3] = retention in ms,
    // then per entry: time in ms, JSON. Ids are "ms-seq", increasing even when an entry's time is older than the last.
    private const string AppendScript = """
        local lastMs, lastSeq = -1, -1
        if redis.call('EXISTS', KEYS[1]) == 1 then
          local info = redis.call('XINFO', 'STREAM', KEYS[1])
          for i = 1, #info, 2 do
            if info[i] == 'last-generated-id' then
              local dash = string.find(info[i + 1], '-', 1, true)
              lastMs = tonumber(string.sub(info[i + 1], 1, dash - 1))
              lastSeq = tonumber(string.sub(info[i + 1], dash + 1))
            end
          end
        end
        for i = 4, #ARGV, 2 do
          local ms = tonumber(ARGV[i])
          if ms > lastMs then lastMs, lastSeq = ms, 0 else lastSeq = lastSeq + 1 end
          redis.call('XADD', KEYS[1], string.format('%.0f-%.0f', lastMs, lastSeq), 'e', ARGV[i + 1])
        end
        redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
        redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 0
        """;

    private static readonly RedisValue EntryField = "e";

    private readonly RedisConnection _connection;
    private readonly int _database;
    private readonly RedisKey _stream;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;

    public RedisAuditStore(RedisStoreOptions redis, AuditOptions options, TimeProvider time, ILogger<RedisAuditStore> logger)
    {
        _connection = new RedisConnection(redis, logger);
        _database = redis.Database;
        _stream = redis.KeyPrefix + "audit";
        _options = options;
        _time = time;
    }

    public async ValueTask AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0) return;
        var arguments = new RedisValue[3 + entries.Count * 2];
        arguments[0] = Milliseconds(_time.GetUtcNow() - _options.Retention);
        arguments[1] = _options.Capacity;
        arguments[2] = (long)_options.Retention.TotalMilliseconds;
        for (var i = 0; i < entries.Count; i++)
        {
            arguments[3 + i * 2] = Milliseconds(entries[i].Time);
            arguments[4 + i * 2] = JsonSerializer.Serialize(entries[i], GatewayJson.Default.AuditEntry);
        }
        await RunAsync(db => db.ScriptEvaluateAsync(AppendScript, [_stream], arguments), cancellationToken);
    }

    public async ValueTask<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        RedisValue newest = query.Cursor is null ? "+" : "(" + ParseCursor(query.Cursor);
        var oldestAllowed = query.OldestAllowed(_time.GetUtcNow(), _options.Retention);
        RedisValue oldest = Milliseconds(oldestAllowed);
        // Without filters one read fills the page; with them, read ahead in larger slices.
        var batch = query is { Server: null, Tool: null, Caller: null } ? query.Limit + 1 : Math.Clamp(query.Limit * 4, 200, 1000);
        var found = new List<AuditEntry>(Math.Min(query.Limit, 64));
        string? lastReturned = null;
        for (var scanned = 0; scanned < MaxScanned;)
        {
            var slice = await RunAsync(db => db.StreamRangeAsync(_stream, oldest, newest, batch, Order.Descending), cancellationToken);
            foreach (var item in slice)
            {
                var entry = JsonSerializer.Deserialize((string)item[EntryField]!, GatewayJson.Default.AuditEntry);
                if (entry.Time < oldestAllowed || !query.Matches(entry)) continue;
                if (found.Count == query.Limit) return new AuditPage(found, AuditCursor.Encode(lastReturned!));
                found.Add(entry);
                lastReturned = item.Id!;
            }
            if (slice.Length < batch) return new AuditPage(found, null);
            scanned += slice.Length;
            newest = "(" + slice[^1].Id;
        }
        // Scanned enough for one request: go on after the last entry read, even though it did not match.
        return new AuditPage(found, AuditCursor.Encode(((string)newest!)[1..]));
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken cancellationToken) =>
        _connection.RunAsync(multiplexer => command(multiplexer.GetDatabase(_database)), cancellationToken);

    private static long Milliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    /// <summary>A stream id, "ms-seq", and nothing else: it is spliced into a range.</summary>
    private static string ParseCursor(string cursor)
    {
        var id = AuditCursor.Decode(cursor);
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash > 0
            && long.TryParse(id.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && long.TryParse(id.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? id
            : throw new InvalidAuditCursorException();
    }
}
