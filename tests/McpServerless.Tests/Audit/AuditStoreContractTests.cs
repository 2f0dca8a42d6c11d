using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using McpServerless.Audit;
using McpServerless.Serialization;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using McpServerless.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace McpServerless.Tests.Audit;

/// <summary>
/// What every audit backend promises (<see cref="IAuditStore"/>), run against the in-memory store, a real
/// redis-server and Azurite. Time is a <see cref="FakeTimeProvider"/>, so retention is tested by moving the clock.
/// </summary>
public abstract class AuditStoreContractTests : IAsyncLifetime
{
    // Ten in the morning UTC, so a few hours either way stay on the same day.
    protected static readonly DateTimeOffset Start = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static readonly AuditCaller Alice = new() { Token = "1a2b3c4d", Principal = "alice", Ip = "10.0.0.1" };
    private static readonly AuditCaller Bob = new() { Token = "ffee0011", Ip = "10.0.0.2" };

    private readonly List<IAuditStore> _stores = [];

    protected FakeTimeProvider Time { get; } = new(Start);

    protected AuditOptions Options { get; } = new();

    protected IAuditStore Store { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Store = Track(CreateStore());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores.Distinct())
        {
            if (store is IAsyncDisposable disposable) await disposable.DisposeAsync();
        }
    }

    /// <summary>A store that shares nothing with any other test's, using <see cref="Options"/> and <see cref="Time"/>.</summary>
    protected abstract IAuditStore CreateStore();

    /// <summary>Another replica's store on the same data (the in-memory store is its own only replica).</summary>
    protected abstract IAuditStore CreateReplicaStore();

    /// <summary>Entries physically held, expired ones included: proves trimming, not just filtering.</summary>
    protected abstract Task<int> CountStoredAsync();

    protected IAuditStore Track(IAuditStore store)
    {
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task Appended_entries_come_back_newest_first_with_every_field()
    {
        AuditEntry[] entries =
        [
            Entry(0, "files", "read_file", Alice) with { Route = AuditRoutes.Aggregated, DurationMs = 12.345, RequestBytes = 120, ResponseBytes = 4096 },
            Entry(1, "files", "write_file", Bob) with { Outcome = AuditOutcomes.ToolError },
            Entry(2, "docs", "file:///readme.md", AuditCaller.Anonymous) with { Method = AuditMethods.ResourcesRead, Outcome = "-32002", Route = AuditRoutes.Virtual("team") },
        ];
        await Store.AppendAsync(entries);

        var page = await Store.QueryAsync(new AuditQuery());

        Assert.Equal(entries.AsEnumerable().Reverse(), page.Entries);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task An_empty_log_answers_an_empty_last_page()
    {
        var page = await Store.QueryAsync(new AuditQuery { Server = "anything" });
        Assert.Empty(page.Entries);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task Each_filter_matches_exactly_and_filters_combine()
    {
        await Store.AppendAsync(
        [
            Entry(0, "files", "read_file", Alice),
            Entry(1, "files", "write_file", Bob),
            Entry(2, "docs", "read_file", Bob),
            Entry(3, "files-2", "read_file", Alice),
            Entry(4, "Files", "read_file", Alice),
        ]);

        Assert.Equal([4, 3, 0], await SecondsAsync(new AuditQuery { Caller = "alice" }));
        Assert.Equal([1, 0], await SecondsAsync(new AuditQuery { Server = "files" }));
        Assert.Equal([4, 3, 2, 0], await SecondsAsync(new AuditQuery { Tool = "read_file" }));
        Assert.Equal([2, 1], await SecondsAsync(new AuditQuery { Caller = "ffee0011" }));
        Assert.Equal([2, 1], await SecondsAsync(new AuditQuery { Caller = "FFEE0011" }));
        Assert.Equal([4, 3, 0], await SecondsAsync(new AuditQuery { Caller = "10.0.0.1" }));
        Assert.Equal([4, 3, 2], await SecondsAsync(new AuditQuery { Since = Start.AddSeconds(2) }));
        Assert.Equal([0], await SecondsAsync(new AuditQuery { Server = "files", Tool = "read_file", Caller = "alice" }));
        Assert.Empty(await SecondsAsync(new AuditQuery { Server = "file" }));
        Assert.Empty(await SecondsAsync(new AuditQuery { Caller = "10.0.0" }));
    }

    [Fact]
    public async Task Paging_with_the_cursor_visits_every_entry_once_newest_first()
    {
        var entries = Enumerable.Range(0, 23).Select(i => Entry(i, i % 2 == 0 ? "even" : "odd", "t", Alice)).ToList();
        await Store.AppendAsync(entries);

        var all = await ReadAllPagesAsync(new AuditQuery { Limit = 5 });
        Assert.Equal([5, 5, 5, 5, 3], all.Select(p => p.Entries.Count));
        Assert.Equal(entries.AsEnumerable().Reverse(), all.SelectMany(p => p.Entries));

        // With a filter, and a last page that is exactly full: no empty page after it.
        var even = await ReadAllPagesAsync(new AuditQuery { Server = "even", Limit = 4 });
        Assert.Equal([4, 4, 4], even.Select(p => p.Entries.Count));
        Assert.Equal(entries.Where(e => e.Server == "even").Reverse(), even.SelectMany(p => p.Entries));
    }

    [Fact]
    public async Task A_cursor_the_store_did_not_write_is_refused()
    {
        await Store.AppendAsync([Entry(0, "files", "t", Alice)]);

        await Assert.ThrowsAsync<InvalidAuditCursorException>(async () => await Store.QueryAsync(new AuditQuery { Cursor = "not base64url!" }));
        await Assert.ThrowsAsync<InvalidAuditCursorException>(async () => await Store.QueryAsync(new AuditQuery { Cursor = AuditCursor.Encode("somewhere-else") }));
    }

    [Fact]
    public async Task Entries_older_than_the_retention_are_neither_returned_nor_kept()
    {
        await Store.AppendAsync([Entry(0, "old", "t", Alice), Entry(1, "old", "t", Alice), Entry(2, "old", "t", Alice)]);
        Time.Advance(TimeSpan.FromDays(5));
        var young = new[] { Entry(0, "young", "t", Alice) with { Time = Time.GetUtcNow() }, Entry(0, "young", "t", Alice) with { Time = Time.GetUtcNow().AddSeconds(1) } };
        await Store.AppendAsync(young);
        Time.Advance(TimeSpan.FromDays(3)); // the first three are now 8 days old, past the 7-day default

        Assert.Equal(young.AsEnumerable().Reverse(), (await Store.QueryAsync(new AuditQuery())).Entries);
        Assert.Equal(young.AsEnumerable().Reverse(), (await Store.QueryAsync(new AuditQuery { Since = Start.AddDays(-30) })).Entries);
        Assert.Empty((await Store.QueryAsync(new AuditQuery { Server = "old" })).Entries);

        // The next write trims what expired.
        var latest = Entry(0, "latest", "t", Bob) with { Time = Time.GetUtcNow() };
        await Store.AppendAsync([latest]);
        Assert.Equal(3, await CountStoredAsync());
        Assert.Equal(young.AsEnumerable().Reverse().Prepend(latest), (await Store.QueryAsync(new AuditQuery())).Entries);
    }

    [Fact]
    public async Task A_large_batch_across_midnight_is_stored_whole_and_in_order()
    {
        var lateEvening = new DateTimeOffset(2026, 11, 25, 23, 59, 0, TimeSpan.Zero);
        Time.SetUtcNow(lateEvening.AddMinutes(10));
        var entries = Enumerable.Range(0, 250).Select(i => Entry(0, "busy", $"tool-{i}", Alice) with { Time = lateEvening.AddSeconds(i) }).ToList();

        await Store.AppendAsync(entries);

        var page = await Store.QueryAsync(new AuditQuery { Limit = AuditQuery.MaxLimit });
        Assert.Equal(entries.AsEnumerable().Reverse(), page.Entries);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task Entries_of_every_replica_are_read_from_one_place()
    {
        var replica = Track(CreateReplicaStore());
        await Store.AppendAsync([Entry(0, "files", "t", Alice) with { Replica = "replica-a" }]);
        await replica.AppendAsync([Entry(1, "files", "t", Bob) with { Replica = "replica-b" }]);

        Assert.Equal(["replica-b", "replica-a"], (await Store.QueryAsync(new AuditQuery())).Entries.Select(e => e.Replica));
        Assert.Equal(["replica-b", "replica-a"], (await replica.QueryAsync(new AuditQuery())).Entries.Select(e => e.Replica));
    }

    [Fact]
    public async Task An_entry_older_than_the_last_one_written_is_still_kept_and_found()
    {
        // A replica whose clock lags writes after one whose clock is ahead.
        await Store.AppendAsync([Entry(10, "ahead", "t", Alice)]);
        await Store.AppendAsync([Entry(5, "behind", "t", Bob)]);

        var servers = (await Store.QueryAsync(new AuditQuery())).Entries.Select(e => e.Server);
        Assert.Equal(["ahead", "behind"], servers.Order(StringComparer.Ordinal));
        Assert.Equal(["behind"], (await Store.QueryAsync(new AuditQuery { Caller = "ffee0011" })).Entries.Select(e => e.Server));
    }

    [Fact]
    public async Task Arguments_are_absent_by_default_and_redacted_when_included()
    {
        var arguments = JsonNode.Parse("""
            {"path":"/srv/report.txt","apiKey":"sk-live-0001","options":{"Auth-Token":"tok-0002","depth":2},
             "headers":[{"name":"X","value":"Bearer eyJ-0003"}],"note":"plain words"}
            """);
        var caller = AuditCaller.From(System.Net.IPAddress.Loopback, "the-callers-token");
        await using (var services = AuditTestServices.Build(Store, Time))
            await services.RecordAsync(log => log.Begin(AuditRoutes.Server, caller, AuditMethods.ToolsCall, "files", "by-default", 10, arguments).Complete(AuditOutcomes.Ok, 20));
        await using (var services = AuditTestServices.Build(Store, Time, options => options.IncludeArguments = true))
            await services.RecordAsync(log => log.Begin(AuditRoutes.Server, caller, AuditMethods.ToolsCall, "files", "included", 10, arguments).Complete(AuditOutcomes.Ok, 20));

        var entries = (await Store.QueryAsync(new AuditQuery())).Entries;
        Assert.Null(Assert.Single(entries, e => e.Tool == "by-default").Arguments);
        var kept = Assert.Single(entries, e => e.Tool == "included").Arguments!.Value;
        Assert.Equal("/srv/report.txt", kept.GetProperty("path").GetString());
        Assert.Equal(2, kept.GetProperty("options").GetProperty("depth").GetInt32());
        Assert.Equal("plain words", kept.GetProperty("note").GetString());
        Assert.Equal("***", kept.GetProperty("apiKey").GetString());
        Assert.Equal("***", kept.GetProperty("options").GetProperty("Auth-Token").GetString());
        Assert.Equal("***", kept.GetProperty("headers")[0].GetProperty("value").GetString());

        var stored = JsonSerializer.Serialize(new AuditPage(entries, null), GatewayJson.Default.AuditPage);
        Assert.DoesNotContain("0001", stored);
        Assert.DoesNotContain("0002", stored);
        Assert.DoesNotContain("0003", stored);
        Assert.DoesNotContain("the-callers-token", stored);
        Assert.Equal(McpServerless.Security.TokenSet.Fingerprint("the-callers-token"), entries[0].Caller.Token);
    }

    protected static AuditEntry Entry(int second, string server, string tool, AuditCaller caller) => new()
    {
        Time = Start.AddSeconds(second),
        Replica = "replica-1",
        Caller = caller,
        Route = AuditRoutes.Server,
        Server = server,
        Method = AuditMethods.ToolsCall,
        Tool = tool,
        Outcome = AuditOutcomes.Ok,
        DurationMs = 1.5,
        RequestBytes = 10,
        ResponseBytes = 20,
    };

    private async Task<List<int>> SecondsAsync(AuditQuery query) =>
        [.. (await Store.QueryAsync(query)).Entries.Select(e => (int)(e.Time - Start).TotalSeconds)];

    private async Task<List<AuditPage>> ReadAllPagesAsync(AuditQuery query)
    {
        var pages = new List<AuditPage>();
        do
        {
            pages.Add(await Store.QueryAsync(query with { Cursor = pages.Count == 0 ? null : pages[^1].Next }));
        }
        while (pages[^1].Next is not null && pages.Count < 100);
        return pages;
    }
}

public sealed class InMemoryAuditStoreContractTests : AuditStoreContractTests
{
    private InMemoryAuditStore? _store;

    protected override IAuditStore CreateStore() => _store = new InMemoryAuditStore(Microsoft.Extensions.Options.Options.Create(Options), Time);

    protected override IAuditStore CreateReplicaStore() => _store!;

    protected override Task<int> CountStoredAsync() => Task.FromResult(_store!.Count);

    [Fact]
    public async Task Only_the_newest_entries_up_to_the_capacity_are_kept()
    {
        var store = new InMemoryAuditStore(Microsoft.Extensions.Options.Options.Create(new AuditOptions { Capacity = 300 }), Time);
        var entries = Enumerable.Range(0, 1000).Select(i => Entry(i, "s", "t", AuditCaller.Anonymous)).ToList();
        foreach (var batch in entries.Chunk(70)) await store.AppendAsync(batch);

        Assert.Equal(300, store.Count);
        var page = await store.QueryAsync(new AuditQuery { Limit = AuditQuery.MaxLimit });
        Assert.Equal(entries.Skip(700).Reverse(), page.Entries);
    }
}

[Collection(RedisCollection.Name)]
public sealed class RedisAuditStoreContractTests(RedisFixture redis) : AuditStoreContractTests
{
    private readonly string _prefix = UniqueName.KeyPrefix();

    protected override IAuditStore CreateStore() => CreateReplicaStore();

    protected override IAuditStore CreateReplicaStore() =>
        new RedisAuditStore(redis.Server.StoreOptions(_prefix), Options, Time, NullLogger<RedisAuditStore>.Instance);

    protected override async Task<int> CountStoredAsync()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        return (int)await connection.GetDatabase().StreamLengthAsync(_prefix + "audit");
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class TableAuditStoreContractTests(AzuriteFixture azurite) : AuditStoreContractTests
{
    private readonly string _table = UniqueName.Table();

    protected override IAuditStore CreateStore() => CreateReplicaStore();

    protected override IAuditStore CreateReplicaStore()
    {
        Options.TableName = _table;
        return new TableAuditStore(azurite.Server.StoreOptions("Unused"), Options, Time, NullLogger<TableAuditStore>.Instance);
    }

    protected override async Task<int> CountStoredAsync()
    {
        var count = 0;
        await foreach (var _ in new TableClient(azurite.Server.ConnectionString, _table).QueryAsync<TableEntity>()) count++;
        return count;
    }
}
