using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
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
/// <item><c>virtual-servers</c>: the same for virtual servers; an add checks both hashes in its script, so the two
/// kinds share one namespace atomically;</item>
/// <item><c>version</c>: a counter; every write takes the next value, so a version is never reused
/// (a delete and re-add cannot make an old version valid again);</item>
/// <item><c>reports:{name}</c>: one hash per server, field = instance id, value = report JSON;
/// <c>reported</c>: the set of servers that have reports.</item>
/// </list>
/// Writes that must check before they change run as Lua scripts, which Redis executes atomically.
/// </summary>
public sealed class RedisMcpStore : IMcpStore, IVirtualServerStore, IMcpReportStore, IAsyncDisposable
{
    private const long NotFound = -1;
    private const long Stale = -2;
    private const long Taken = -3;
    private const long TakenByOtherType = -4;

    // KEYS[1] = the kind's hash, KEYS[2] = version counter, KEYS[3] = the other kind's hash;
    // ARGV[1] = name, ARGV[2] = definition JSON.
    private const string AddScript = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return -3 end
        if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return -4 end
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
    private readonly RedisKey _virtualServers;
    private readonly RedisKey _versionCounter;
    private readonly RedisKey _reported;

    public RedisMcpStore(RedisStoreOptions options, ILogger<RedisMcpStore>? logger = null)
    {
        _connection = new RedisConnection(options, logger ?? NullLogger<RedisMcpStore>.Instance);
        _database = options.Database;
        _prefix = options.KeyPrefix;
        _definitions = _prefix + "definitions";
        _virtualServers = _prefix + "virtual-servers";
        _versionCounter = _prefix + "version";
        _reported = _prefix + "reported";
    }

    public async ValueTask<StoredMcp?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        await GetAsync(_definitions, name, GatewayJson.Default.McpDefinition, cancellationToken) is var (definition, version) ? new(definition, version) : null;

    public async ValueTask<IReadOnlyList<StoredMcp>> ListAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListAsync(_definitions, GatewayJson.Default.McpDefinition, cancellationToken)).Select(e => new StoredMcp(e.Definition, e.Version)).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];

    public async ValueTask<StoredMcp> AddAsync(McpDefinition definition, CancellationToken cancellationToken = default) =>
        new(definition, await AddAsync(RegistryEntryType.Server, definition.Name, Serialize(definition, GatewayJson.Default.McpDefinition), cancellationToken));

    public async ValueTask<StoredMcp> UpdateAsync(McpDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        new(definition, await UpdateAsync(RegistryEntryType.Server, definition.Name, expectedVersion, Serialize(definition, GatewayJson.Default.McpDefinition), cancellationToken));

    public ValueTask DeleteAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default) =>
        DeleteAsync(RegistryEntryType.Server, name, expectedVersion, cancellationToken);

    public async ValueTask<StoredVirtualServer?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default) =>
        await GetAsync(_virtualServers, name, GatewayJson.Default.VirtualServerDefinition, cancellationToken) is var (definition, version) ? new(definition, version) : null;

    public async ValueTask<IReadOnlyList<StoredVirtualServer>> ListVirtualServersAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListAsync(_virtualServers, GatewayJson.Default.VirtualServerDefinition, cancellationToken)).Select(e => new StoredVirtualServer(e.Definition, e.Version)).OrderBy(m => m.Definition.Name, StringComparer.Ordinal)];

    public async ValueTask<StoredVirtualServer> AddVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default) =>
        new(definition, await AddAsync(RegistryEntryType.VirtualServer, definition.Name, Serialize(definition, GatewayJson.Default.VirtualServerDefinition), cancellationToken));

    public async ValueTask<StoredVirtualServer> UpdateVirtualServerAsync(VirtualServerDefinition definition, string? expectedVersion, CancellationToken cancellationToken = default) =>
        new(definition, await UpdateAsync(RegistryEntryType.VirtualServer, definition.Name, expectedVersion, Serialize(definition, GatewayJson.Default.VirtualServerDefinition), cancellationToken));

    public ValueTask DeleteVirtualServerAsync(string name, string? expectedVersion, CancellationToken cancellationToken = default) =>
        DeleteAsync(RegistryEntryType.VirtualServer, name, expectedVersion, cancellationToken);

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

    private async Task<(T Definition, string Version)?> GetAsync<T>(RedisKey hash, string name, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var value = await RunAsync(db => db.HashGetAsync(hash, name), cancellationToken);
        return value.IsNull ? null : Parse((string)value!, typeInfo);
    }

    private async Task<IEnumerable<(T Definition, string Version)>> ListAsync<T>(RedisKey hash, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var entries = await RunAsync(db => db.HashGetAllAsync(hash), cancellationToken);
        return entries.Select(e => Parse((string)e.Value!, typeInfo));
    }

    private async Task<string> AddAsync(RegistryEntryType type, string name, string json, CancellationToken cancellationToken)
    {
        var result = (long)await EvaluateAsync(AddScript, type, [name, json], cancellationToken);
        return result switch
        {
            Taken => throw new McpAlreadyExistsException(name, type, type),
            TakenByOtherType => throw new McpAlreadyExistsException(name, Other(type), type),
            _ => FormatVersion(result),
        };
    }

    private async Task<string> UpdateAsync(RegistryEntryType type, string name, string? expectedVersion, string json, CancellationToken cancellationToken)
    {
        var result = (long)await EvaluateAsync(UpdateScript, type, [name, expectedVersion ?? "", json], cancellationToken);
        ThrowOnRefusal(result, name, type);
        return FormatVersion(result);
    }

    private async ValueTask DeleteAsync(RegistryEntryType type, string name, string? expectedVersion, CancellationToken cancellationToken)
    {
        var result = (long)await EvaluateAsync(DeleteScript, type, [name, expectedVersion ?? ""], cancellationToken);
        ThrowOnRefusal(result, name, type);
    }

    private Task<RedisResult> EvaluateAsync(string script, RegistryEntryType type, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        RedisKey[] keys = type == RegistryEntryType.Server ? [_definitions, _versionCounter, _virtualServers] : [_virtualServers, _versionCounter, _definitions];
        return RunAsync(db => db.ScriptEvaluateAsync(script, keys, arguments), cancellationToken);
    }

    private static RegistryEntryType Other(RegistryEntryType type) =>
        type == RegistryEntryType.Server ? RegistryEntryType.VirtualServer : RegistryEntryType.Server;

    private static void ThrowOnRefusal(long result, string name, RegistryEntryType type)
    {
        switch (result)
        {
            case NotFound: throw new McpNotFoundException(name, type);
            case Stale: throw new McpVersionConflictException(name, type);
        }
    }

    private static string Serialize<T>(T definition, JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(definition, typeInfo);

    private static (T Definition, string Version) Parse<T>(string value, JsonTypeInfo<T> typeInfo)
    {
        var separator = value.IndexOf(':', StringComparison.Ordinal);
        return (JsonSerializer.Deserialize(value.AsSpan(separator + 1), typeInfo)!, value[..separator]);
    }

    private static string FormatVersion(long version) => version.ToString(CultureInfo.InvariantCulture);
}
