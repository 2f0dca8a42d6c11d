using System.Text.Json;
using McpServerless.Model;
using McpServerless.Serialization;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>
/// What every backend promises (the <see cref="IMcpStore"/>, <see cref="IVirtualServerStore"/> and <see cref="IMcpReportStore"/> contracts), run once
/// per backend by the subclasses below. Each test gets a fresh, isolated store.
/// </summary>
public abstract class McpStoreContractTests : IAsyncLifetime
{
    private IMcpStore _store = null!;

    protected IMcpStore Store => _store;

    protected IMcpReportStore Reports => (IMcpReportStore)_store;

    protected IVirtualServerStore Virtual => (IVirtualServerStore)_store;

    public Task InitializeAsync()
    {
        _store = CreateStore();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_store is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }

    /// <summary>A store that shares nothing with any other test's store.</summary>
    protected abstract IMcpStore CreateStore();

    [Fact]
    public async Task Add_then_get_and_list_return_the_definition_with_its_version()
    {
        var added = await Store.AddAsync(Definitions.Stdio("alpha"));

        var read = await Store.GetAsync("alpha");
        Assert.NotNull(read);
        Assert.Equal(added.Version, read.Version);
        Assert.Equal("echo", read.Definition.Command);
        Assert.Equal(["alpha"], (await Store.ListAsync()).Select(m => m.Definition.Name));
        Assert.Null(await Store.GetAsync("absent"));
    }

    [Fact]
    public async Task Adding_a_taken_name_throws_already_exists_and_keeps_the_first()
    {
        await Store.AddAsync(Definitions.Stdio("dup") with { Description = "first" });

        var ex = await Assert.ThrowsAsync<McpAlreadyExistsException>(async () => await Store.AddAsync(Definitions.Stdio("dup") with { Description = "second" }));
        Assert.Equal("dup", ex.Name);
        Assert.Equal("first", (await Store.GetAsync("dup"))!.Definition.Description);
    }

    [Fact]
    public async Task Update_with_the_current_version_replaces_and_gives_a_new_version()
    {
        var added = await Store.AddAsync(Definitions.Stdio("svc"));

        var updated = await Store.UpdateAsync(Definitions.Stdio("svc") with { Description = "new" }, added.Version);

        Assert.NotEqual(added.Version, updated.Version);
        var read = await Store.GetAsync("svc");
        Assert.Equal("new", read!.Definition.Description);
        Assert.Equal(updated.Version, read.Version);
    }

    [Fact]
    public async Task Update_and_delete_with_a_stale_version_conflict_and_change_nothing()
    {
        var first = await Store.AddAsync(Definitions.Stdio("svc"));
        var second = await Store.UpdateAsync(Definitions.Stdio("svc") with { Description = "second" }, first.Version);

        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Store.UpdateAsync(Definitions.Stdio("svc") with { Description = "lost" }, first.Version));
        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Store.DeleteAsync("svc", first.Version));

        var read = await Store.GetAsync("svc");
        Assert.Equal("second", read!.Definition.Description);
        Assert.Equal(second.Version, read.Version);
    }

    [Fact]
    public async Task Update_and_delete_without_a_version_apply_to_whatever_is_stored()
    {
        await Store.AddAsync(Definitions.Stdio("svc"));

        await Store.UpdateAsync(Definitions.Stdio("svc") with { Description = "forced" }, expectedVersion: null);
        Assert.Equal("forced", (await Store.GetAsync("svc"))!.Definition.Description);

        await Store.DeleteAsync("svc", expectedVersion: null);
        Assert.Null(await Store.GetAsync("svc"));
    }

    [Fact]
    public async Task Update_and_delete_of_an_absent_name_throw_not_found()
    {
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.UpdateAsync(Definitions.Stdio("ghost"), null));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.DeleteAsync("ghost", null));
    }

    [Fact]
    public async Task Delete_with_the_current_version_removes_and_an_old_version_never_matches_a_new_entry()
    {
        var first = await Store.AddAsync(Definitions.Stdio("svc"));
        await Store.DeleteAsync("svc", first.Version);
        Assert.Empty(await Store.ListAsync());

        var again = await Store.AddAsync(Definitions.Stdio("svc"));
        Assert.NotEqual(first.Version, again.Version);
        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Store.UpdateAsync(Definitions.Stdio("svc"), first.Version));
    }

    [Fact]
    public async Task Concurrent_writers_with_the_version_they_read_have_exactly_one_winner_per_round()
    {
        const int writers = 16;
        await Store.AddAsync(Definitions.Stdio("contended"));
        for (var round = 0; round < 5; round++)
        {
            var read = (await Store.GetAsync("contended"))!;
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
            {
                start.Wait();
                try
                {
                    return await Store.UpdateAsync(Definitions.Stdio("contended") with { Description = $"round {round} writer {writer}" }, read.Version);
                }
                catch (McpVersionConflictException)
                {
                    return null;
                }
            })).ToList();
            start.Set();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null)!;
            var stored = (await Store.GetAsync("contended"))!;
            Assert.Equal(winner.Version, stored.Version);
            Assert.Equal(winner.Definition.Description, stored.Definition.Description);
        }
    }

    [Fact]
    public async Task Every_definition_field_round_trips_intact_including_secrets()
    {
        var definition = new McpDefinition
        {
            Name = "everything",
            Description = "Every field, with \"quotes\", unicode ✓ and a newline\n",
            Transport = McpTransport.Stdio,
            Command = "node",
            Args = ["server.js", "--flag=value with spaces", ""],
            Env = new Dictionary<string, string> { ["API_KEY"] = "secret-env-value", ["EMPTY"] = "" },
            Url = "https://mcp.example.test/mcp?x=1&y=2",
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer upstream-secret", ["X-Trace"] = "1" },
            Timeout = TimeSpan.FromMilliseconds(1500),
            AuthTokens = ["token-one", "token-two"],
            AllowedIps = ["10.0.0.0/8", "::1"],
            RequireAuth = true,
            AutoReconnect = true,
            MaxReconnects = 7,
            ReconnectDelay = TimeSpan.FromSeconds(2.5),
            HealthCheckEnabled = true,
            HealthCheckInterval = TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(30),
            ToolFilter = new ToolFilter { Allow = ["read_*", "list?"], Deny = ["read_secret"] },
            IsolateSessions = true,
            ToolsCacheTtl = TimeSpan.FromSeconds(20),
            ProtocolVersion = "2025-11-25",
        };
        await Store.AddAsync(definition);

        var read = (await Store.GetAsync("everything"))!.Definition;

        // Records compare collections by reference, so compare the canonical JSON of both.
        Assert.Equal(ToJson(definition), ToJson(read));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), read.Timeout);
        Assert.Equal("secret-env-value", read.Env!["API_KEY"]);
        Assert.Equal("Bearer upstream-secret", read.Headers!["Authorization"]);
        Assert.Equal(["token-one", "token-two"], read.AuthTokens);
    }

    [Fact]
    public async Task Hundreds_of_entries_are_listed_in_name_order()
    {
        var names = Enumerable.Range(0, 300).Select(i => $"server-{i:D3}").ToList();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (name, ct) => await Store.AddAsync(Definitions.Http(name), ct));

        var listed = await Store.ListAsync();

        Assert.Equal(names, listed.Select(m => m.Definition.Name));
        Assert.All(listed, m => Assert.False(string.IsNullOrEmpty(m.Version)));
    }

    [Fact]
    public async Task Names_with_every_allowed_character_and_differing_only_in_case_are_distinct()
    {
        // The name rule is ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$: this one is 64 characters and uses all of them.
        string[] names = ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", "a", "A", "0-_", "z9"];
        foreach (var name in names) await Store.AddAsync(Definitions.Stdio(name));

        foreach (var name in names) Assert.Equal(name, (await Store.GetAsync(name))!.Definition.Name);
        Assert.Equal(names.Order(StringComparer.Ordinal), (await Store.ListAsync()).Select(m => m.Definition.Name));
    }

    [Fact]
    public async Task Reports_are_kept_per_server_and_instance_and_a_new_report_replaces_the_old()
    {
        var now = DateTimeOffset.UtcNow;
        await Reports.ReportAsync(Report("alpha", "instance/1#?", ConnectionState.Connecting, now));
        await Reports.ReportAsync(Report("alpha", "instance-2", ConnectionState.Connected, now));
        await Reports.ReportAsync(Report("beta", "instance-2", ConnectionState.Error, now));
        await Reports.ReportAsync(Report("alpha", "instance/1#?", ConnectionState.Connected, now.AddSeconds(5), toolCount: 2));

        var all = await Reports.ListReportsAsync();
        Assert.Equal(3, all.Count);
        var replaced = Assert.Single(all, r => r.Status is { Name: "alpha", Instance: "instance/1#?" });
        Assert.Equal(ConnectionState.Connected, replaced.Status.State);
        Assert.Equal(now.AddSeconds(5), replaced.Status.ReportedAt);
        Assert.Equal(["tool-0", "tool-1"], replaced.Tools.Select(t => t.Name));
        Assert.Equal(JsonValueKind.Object, replaced.Tools[0].InputSchema!.Value.ValueKind);

        await Reports.RemoveReportsAsync("alpha");
        var left = Assert.Single(await Reports.ListReportsAsync());
        Assert.Equal("beta", left.Status.Name);
        await Reports.RemoveReportsAsync("never-reported");
    }

    [Fact]
    public async Task A_tool_catalog_larger_than_one_table_property_round_trips()
    {
        // 400 tools of ~300 characters: well past the 64 KiB of a single Table string property.
        await Reports.ReportAsync(Report("big", "i1", ConnectionState.Connected, DateTimeOffset.UtcNow, toolCount: 400));

        var report = Assert.Single(await Reports.ListReportsAsync());
        Assert.Equal(400, report.Tools.Count);
        Assert.Equal("tool-399", report.Tools[^1].Name);
    }

    [Fact]
    public async Task A_virtual_server_is_added_read_and_listed_apart_from_servers()
    {
        await Store.AddAsync(Definitions.Stdio("server-one"));
        var added = await Virtual.AddVirtualServerAsync(VirtualDefinition("team-b"));
        await Virtual.AddVirtualServerAsync(VirtualDefinition("team-a"));

        var read = await Virtual.GetVirtualServerAsync("team-b");
        Assert.Equal(added.Version, read!.Version);
        Assert.Equal(["everything:echo", "fs:read_*"], read.Definition.Tools);
        Assert.Equal(["team-a", "team-b"], (await Virtual.ListVirtualServersAsync()).Select(v => v.Definition.Name));
        Assert.Equal(["server-one"], (await Store.ListAsync()).Select(m => m.Definition.Name));
        Assert.Null(await Virtual.GetVirtualServerAsync("server-one"));
        Assert.Null(await Store.GetAsync("team-a"));
        Assert.Null(await Virtual.GetVirtualServerAsync("absent"));
    }

    [Fact]
    public async Task Every_virtual_server_field_round_trips_intact_including_tokens()
    {
        var definition = new VirtualServerDefinition
        {
            Name = "everything-virtual",
            Description = "Curated, with \"quotes\" and unicode ✓",
            Tools = ["everything:echo", "fs:read_*", "fs:list?"],
            Prompts = ["everything:simple_prompt"],
            Resources = ["everything:test://static/resource/*"],
            Overrides = new Dictionary<string, MemberOverride>
            {
                ["everything:echo"] = new() { Name = "say", Description = "Says it back" },
                ["fs:read_text"] = new() { Description = "Reads text" },
            },
            AuthTokens = ["team-token-1", "team-token-2"],
            AllowedIps = ["10.0.0.0/8", "::1"],
            RequireAuth = true,
        };
        await Virtual.AddVirtualServerAsync(definition);

        var read = (await Virtual.GetVirtualServerAsync("everything-virtual"))!.Definition;

        Assert.Equal(ToJson(definition), ToJson(read));
        Assert.Equal(["team-token-1", "team-token-2"], read.AuthTokens);
        Assert.Equal("say", read.Overrides!["everything:echo"].Name);
    }

    [Fact]
    public async Task Virtual_server_updates_and_deletes_are_versioned_like_a_server_s()
    {
        var first = await Virtual.AddVirtualServerAsync(VirtualDefinition("v"));
        var second = await Virtual.UpdateVirtualServerAsync(VirtualDefinition("v") with { Description = "second" }, first.Version);
        Assert.NotEqual(first.Version, second.Version);

        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Virtual.UpdateVirtualServerAsync(VirtualDefinition("v") with { Description = "lost" }, first.Version));
        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Virtual.DeleteVirtualServerAsync("v", first.Version));
        Assert.Equal("second", (await Virtual.GetVirtualServerAsync("v"))!.Definition.Description);

        await Virtual.UpdateVirtualServerAsync(VirtualDefinition("v") with { Description = "forced" }, expectedVersion: null);
        Assert.Equal("forced", (await Virtual.GetVirtualServerAsync("v"))!.Definition.Description);
        await Virtual.DeleteVirtualServerAsync("v", expectedVersion: null);
        Assert.Null(await Virtual.GetVirtualServerAsync("v"));

        var ghost = await Assert.ThrowsAsync<McpNotFoundException>(async () => await Virtual.UpdateVirtualServerAsync(VirtualDefinition("v"), null));
        Assert.Equal(RegistryEntryType.VirtualServer, ghost.Type);
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Virtual.DeleteVirtualServerAsync("v", null));
        var again = await Virtual.AddVirtualServerAsync(VirtualDefinition("v"));
        Assert.NotEqual(first.Version, again.Version);
        await Assert.ThrowsAsync<McpVersionConflictException>(async () => await Virtual.UpdateVirtualServerAsync(VirtualDefinition("v"), first.Version));
    }

    [Fact]
    public async Task Servers_and_virtual_servers_share_one_namespace()
    {
        await Store.AddAsync(Definitions.Stdio("server-name"));
        var virtualEntry = await Virtual.AddVirtualServerAsync(VirtualDefinition("virtual-name"));

        var onServer = await Assert.ThrowsAsync<McpAlreadyExistsException>(async () => await Virtual.AddVirtualServerAsync(VirtualDefinition("server-name")));
        var onVirtual = await Assert.ThrowsAsync<McpAlreadyExistsException>(async () => await Store.AddAsync(Definitions.Stdio("virtual-name")));
        Assert.Equal(RegistryEntryType.Server, onServer.TakenBy);
        Assert.Equal(RegistryEntryType.VirtualServer, onVirtual.TakenBy);
        Assert.Contains("share one namespace", onVirtual.Message);

        // Neither kind's writes reach an entry of the other, not even with that entry's own version.
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.UpdateAsync(Definitions.Stdio("virtual-name"), null));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.UpdateAsync(Definitions.Stdio("virtual-name"), virtualEntry.Version));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.DeleteAsync("virtual-name", null));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Store.DeleteAsync("virtual-name", virtualEntry.Version));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Virtual.UpdateVirtualServerAsync(VirtualDefinition("server-name"), null));
        await Assert.ThrowsAsync<McpNotFoundException>(async () => await Virtual.DeleteVirtualServerAsync("server-name", null));
        Assert.Equal("echo", (await Store.GetAsync("server-name"))!.Definition.Command);
        Assert.Equal(virtualEntry.Version, (await Virtual.GetVirtualServerAsync("virtual-name"))!.Version);

        // Once freed, a name may go to the other kind.
        await Virtual.DeleteVirtualServerAsync("virtual-name", virtualEntry.Version);
        await Store.AddAsync(Definitions.Stdio("virtual-name"));
        Assert.Null(await Virtual.GetVirtualServerAsync("virtual-name"));
    }

    [Fact]
    public async Task Concurrent_adds_of_one_name_as_server_and_as_virtual_server_have_exactly_one_winner()
    {
        const int writersPerKind = 8;
        for (var round = 0; round < 5; round++)
        {
            var name = $"raced-{round}";
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, writersPerKind * 2).Select(writer => Task.Run(async () =>
            {
                start.Wait();
                try
                {
                    if (writer % 2 == 0) await Store.AddAsync(Definitions.Stdio(name));
                    else await Virtual.AddVirtualServerAsync(VirtualDefinition(name));
                    return writer % 2 == 0 ? RegistryEntryType.Server : RegistryEntryType.VirtualServer;
                }
                catch (McpAlreadyExistsException)
                {
                    return (RegistryEntryType?)null;
                }
            })).ToList();
            start.Set();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r is not null);
            var server = await Store.GetAsync(name);
            var virtualServer = await Virtual.GetVirtualServerAsync(name);
            Assert.Equal(winner == RegistryEntryType.Server, server is not null);
            Assert.Equal(winner == RegistryEntryType.VirtualServer, virtualServer is not null);
        }
    }

    private static McpInstanceReport Report(string name, string instance, ConnectionState state, DateTimeOffset at, int toolCount = 0)
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"path":{"type":"string","description":"A path to read, relative to the root the server was started with"}}}""").RootElement;
        var tools = Enumerable.Range(0, toolCount)
            .Select(i => new ToolInfo { Name = $"tool-{i}", Description = $"Tool number {i}, which does something useful", InputSchema = schema, McpName = name })
            .ToList();
        return new McpInstanceReport(new McpRuntimeStatus { Name = name, State = state, Instance = instance, ReportedAt = at, ToolCount = toolCount }, tools);
    }

    private static string ToJson(McpDefinition definition) =>
        JsonSerializer.Serialize(definition, GatewayJson.Default.McpDefinition);

    private static string ToJson(VirtualServerDefinition definition) =>
        JsonSerializer.Serialize(definition, GatewayJson.Default.VirtualServerDefinition);

    private static VirtualServerDefinition VirtualDefinition(string name) =>
        new() { Name = name, Tools = ["everything:echo", "fs:read_*"] };
}

public sealed class InMemoryMcpStoreContractTests : McpStoreContractTests
{
    protected override IMcpStore CreateStore() => new InMemoryMcpStore();
}

[Collection(RedisCollection.Name)]
public sealed class RedisMcpStoreContractTests(RedisFixture redis) : McpStoreContractTests
{
    protected override IMcpStore CreateStore() => new RedisMcpStore(redis.Server.StoreOptions(UniqueName.KeyPrefix()));
}

[Collection(AzuriteCollection.Name)]
public sealed class TableMcpStoreContractTests(AzuriteFixture azurite) : McpStoreContractTests
{
    protected override IMcpStore CreateStore() => new TableMcpStore(azurite.Server.StoreOptions(UniqueName.Table()));

    [Fact]
    public async Task A_write_whose_answer_was_lost_is_not_reported_as_a_conflict_on_retry()
    {
        var lossy = new LoseFirstAnswer(HttpMethod.Post.Method, HttpMethod.Put.Method);
        var options = azurite.Server.StoreOptions(UniqueName.Table());
        options.ConfigureClient = client => client.AddPolicy(lossy, Azure.Core.HttpPipelinePosition.PerRetry);
        var store = new TableMcpStore(options);
        await store.ListAsync(); // creates the table, so the first POST below is the add

        lossy.Arm();
        var added = await store.AddAsync(Definitions.Stdio("lost-answer"));
        Assert.True(lossy.Lost);
        lossy.Arm();
        var updated = await store.UpdateAsync(Definitions.Stdio("lost-answer") with { Description = "v2" }, added.Version);
        Assert.True(lossy.Lost);

        var stored = await store.GetAsync("lost-answer");
        Assert.Equal("v2", stored!.Definition.Description);
        Assert.Equal(updated.Version, stored.Version);
        // Someone else's write is still a conflict.
        await Assert.ThrowsAsync<McpAlreadyExistsException>(() => store.AddAsync(Definitions.Stdio("lost-answer")).AsTask());
        await Assert.ThrowsAsync<McpVersionConflictException>(() => store.UpdateAsync(Definitions.Stdio("lost-answer"), added.Version).AsTask());
    }

    /// <summary>Lets one armed request of the given methods reach the service, then loses its answer, as a dropped connection would.</summary>
    private sealed class LoseFirstAnswer(params string[] methods) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _armed;

        public bool Lost { get; private set; }

        public void Arm()
        {
            Lost = false;
            _armed = 1;
        }

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store is asynchronous.");

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (methods.Contains(message.Request.Method.Method) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Lost = true;
                throw new IOException("The connection was reset before the answer arrived.");
            }
        }
    }
}
