using System.Globalization;
using System.Text.Json;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace McpServerless.Storage.Redis;

/// <summary>
/// The registry in Redis. Keys (all under <see cref="RedisStoreOptions.KeyPrefix"/>):
/// <list type="bullet">
/// <item><c>definitions</c>: one hash, field = server name, value = <c>"{version}:{definition JSON}"</c>,
/// so a listing is a single HGETALL and a version always travels with its definition;</item>
/// <item><c>version</c>: a counter; every write takes the next value, so a version is never reused
/// (a delete and re-add cannot make an old version valid again);</item>
/// <item><c>reports:{name}</c>: one hash per server, field = instance id, value = report JSON;
/// <c>reported</c>: the set of servers that have reports.</item>
/// </list>
/// Writes that must check before they change run as Lua scripts, which Redis executes atomically.
/// </summary>
public sealed class RedisMcpStore : IMcpStore, IMcpReportStore, IAsyncDisposable
{
    private const long NotFound = -1;
    private const long Stale = -2;

    // KEYS[1] = definitions, KEYS[2] = version counter; ARGV[1] = name, ARGV[2] = definition JSON.
    private const string AddScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return false end
        local version = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[1], ARGV[1], version .. ':' .. ARGV[2])
        return version
        """;

    // Shared head of update and delete: ARGV[2] = expected version, '' for any.
    private const string CheckVersion = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current then return -1 end
        if ARGV[2] ~= '' and string.sub(current, 1, string.find(current, ':', 1, true) - 1) ~= ARGV[2] then return -2 end

        """;

    // ARGV[3] = new definition JSON.
    private const string UpdateScript = CheckVersion + """
        local version = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[1], ARGV[1], version .. ':' .. ARGV[3])
        return version
        """;

    private const string DeleteScript = CheckVersion + """
        redis.call('HDEL', KEYS[1], ARGV[1])
        return 0
        """;

    private readonly RedisConnection _connection;
    private readonly int _database;
    private readonly string _prefix;
    private readonly RedisKey _definitions;
    private readonly RedisKey _versionCounter;
    private readonly RedisKey _reported;

    public RedisMcpStore(RedisStoreOptions options, ILogger<RedisMcpStore>? logger = null)
    {
        _connection = new RedisConnection(options, logger ?? NullLogger<RedisMcpStore>.Instance);
        _database = options.Database;
        _prefix = options.KeyPrefix;
        _definitions = _prefix + "definitions";
        _versionCounter = _prefix + "version";
        _reported = _prefix + "reported";
    }

    public async ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var value = await RunAsync(db => db.HashGetAsync(_definitions, name), cancellationToken);
        return value.IsNull ? null : Parse(value!);
    }

    public async ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default)
    {
        var entries = await RunAsync(db => db.HashGetAllAsync(_definitions), cancellationToken);
        return [.. entries.Select(e => Parse(e.Value!)).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];
    }

    public async ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default)
    {
        var result = await EvaluateAsync(AddScript, [definition.Name, Serialize(definition)], cancellationToken);
        return result.IsNull
            ? throw new McpAlreadyExistsException(definition.Name)
            : new StoredMcp(definition, FormatVersion((long)result));
    }

    public async ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        var result = (long)await EvaluateAsync(UpdateScript, [definition.Name, expectedVersion ?? "", Serialize(definition)], cancellationToken);
        ThrowOnRefusal(result, definition.Name);
        return new StoredMcp(definition, FormatVersion(result));
    }

    public async ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        var result = (long)await EvaluateAsync(DeleteScript, [name, expectedVersion ?? ""], cancellationToken);
        ThrowOnRefusal(result, name);
    }

    public async ValueTask ReportAsync(McpInstanceReport report, CancellationToken cancellationToken = default)
    {
        var name = report.Status.Name;
        var json = JsonSerializer.Serialize(report, GatewayJson.Default.McpInstanceReport);
        await RunAsync(async db =>
        {
            var transaction = db.CreateTransaction();
            _ = transaction.HashSetAsync(ReportsKey(name), report.Status.Instance ?? "", json);
            _ = transaction.SetAddAsync(_reported, name);
            return await transaction.ExecuteAsync();
        }, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<McpInstanceReport>> ListReportsAsync(CancellationToken cancellationToken = default)
    {
        var perServer = await RunAsync(async db =>
        {
            var names = await db.SetMembersAsync(_reported);
            return await Task.WhenAll(names.Select(n => db.HashValuesAsync(ReportsKey(n!))));
        }, cancellationToken);
        return [.. perServer.SelectMany(values => values)
            .Select(v => JsonSerializer.Deserialize((string)v!, GatewayJson.Default.McpInstanceReport)!)];
    }

    public async ValueTask RemoveReportsAsync(string name, CancellationToken cancellationToken = default)
    {
        await RunAsync(async db =>
        {
            var transaction = db.CreateTransaction();
            _ = transaction.KeyDeleteAsync(ReportsKey(name));
            _ = transaction.SetRemoveAsync(_reported, name);
            return await transaction.ExecuteAsync();
        }, cancellationToken);
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private RedisKey ReportsKey(string name) => _prefix + "reports:" + name;

    private Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken cancellationToken) =>
        _connection.RunAsync(multiplexer => command(multiplexer.GetDatabase(_database)), cancellationToken);

    private Task<RedisResult> EvaluateAsync(string script, RedisValue[] arguments, CancellationToken cancellationToken) =>
        RunAsync(db => db.ScriptEvaluateAsync(script, [_definitions, _versionCounter], arguments), cancellationToken);

    private static void ThrowOnRefusal(long result, string name)
    {
        switch (result)
        {
            case NotFound: throw new McpNotFoundException(name);
            case Stale: throw new McpVersionConflictException(name);
        }
    }

    private static string Serialize(McpDefinition definition) =>
        JsonSerializer.Serialize(definition, GatewayJson.Default.McpDefinition);

    private static StoredMcp Parse(string value)
    {
        var separator = value.IndexOf(':', StringComparison.Ordinal);
        var definition = JsonSerializer.Deserialize(value.AsSpan(separator + 1), GatewayJson.Default.McpDefinition)!;
        return new StoredMcp(definition, value[..separator]);
    }

    private static string FormatVersion(long version) => version.ToString(CultureInfo.InvariantCulture);
}
