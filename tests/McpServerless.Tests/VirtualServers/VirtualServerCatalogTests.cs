using System.Collections.Concurrent;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Storage;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace McpServerless.Tests.VirtualServers;

/// <summary>
/// Two gateway instances sharing one registry: a virtual server created, changed or deleted through one instance's
/// admin API reaches the other's <see cref="VirtualServerCatalog"/>, what its relay serves, through the change feed or,
/// when notices are lost, through the interval reconcile.
/// </summary>
public sealed class VirtualServerCatalogTests
{
    // Generous for a busy CI box; the feed delivers in milliseconds and the reconcile runs every second here.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Changes_reach_the_other_instance_over_the_redis_feed()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var prefix = UniqueName.KeyPrefix();
        var channel = $"changes-{Guid.NewGuid():N}";
        await using var storeA = new RedisMcpStore(redis.StoreOptions(prefix));
        await using var storeB = new RedisMcpStore(redis.StoreOptions(prefix));
        // An hour between reconciles: only the feed can move B within the test.
        await using var a = await StartAsync(storeA, TimeSpan.FromHours(1), RedisFeed(redis, channel));
        await using var b = await StartAsync(storeB, TimeSpan.FromHours(1), RedisFeed(redis, channel));

        await ChangesPropagateAsync(a, b);
    }

    [Fact]
    public async Task Lost_notices_are_made_good_by_the_interval_reconcile_on_redis()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var prefix = UniqueName.KeyPrefix();
        await using var storeA = new RedisMcpStore(redis.StoreOptions(prefix));
        await using var storeB = new RedisMcpStore(redis.StoreOptions(prefix));
        // Each instance's in-process feed reaches only itself: every notice is lost to the other.
        await using var a = await StartAsync(storeA, TimeSpan.FromSeconds(1));
        await using var b = await StartAsync(storeB, TimeSpan.FromSeconds(1));

        await ChangesPropagateAsync(a, b);
    }

    [Fact]
    public async Task Instances_on_azurite_tables_converge_by_reconcile()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        var table = UniqueName.Table();
        await using var a = await StartAsync(new TableMcpStore(azurite.StoreOptions(table)), TimeSpan.FromSeconds(1));
        await using var b = await StartAsync(new TableMcpStore(azurite.StoreOptions(table)), TimeSpan.FromSeconds(1));

        await ChangesPropagateAsync(a, b);
    }

    [Fact]
    public async Task A_server_notice_leaves_the_catalog_alone_and_a_resync_rereads_everything()
    {
        var store = new InMemoryMcpStore();
        var feed = new InProcessChangeFeed(NullLogger<InProcessChangeFeed>.Instance);
        var catalog = new VirtualServerCatalog(store, feed, Microsoft.Extensions.Options.Options.Create(new McpProxyOptions { ReconcileInterval = TimeSpan.FromHours(1) }),
            TimeProvider.System, NullLogger<VirtualServerCatalog>.Instance);
        var changed = new ConcurrentQueue<string>();
        catalog.Changed += changed.Enqueue;
        await store.AddVirtualServerAsync(new VirtualServerDefinition { Name = "before" });
        await catalog.StartAsync(CancellationToken.None);
        try
        {
            // Only the reconcile at start can bring "before": once it is there, that reconcile has read the store.
            await Eventually.GetAsync(() => Task.FromResult(catalog.TryGet("before", out _)), found => found, "the reconcile at start");
            // Written behind the feed's back, as by a replica whose notice was lost.
            await store.AddVirtualServerAsync(new VirtualServerDefinition { Name = "quiet" });
            await feed.PublishAsync(new RegistryChange("quiet", RegistryChangeKind.Upserted, "1")); // a server's notice: not for the catalog
            await Task.Delay(200);
            Assert.False(catalog.TryGet("quiet", out _));

            await feed.PublishAsync(RegistryChange.Resync);
            await Eventually.GetAsync(() => Task.FromResult(catalog.TryGet("quiet", out _)), found => found, "the resync to read the store");
            Assert.Equal(["before", "quiet"], changed);
        }
        finally
        {
            await catalog.StopAsync(CancellationToken.None);
        }
    }

    private static async Task ChangesPropagateAsync(GatewayHarness a, GatewayHarness b)
    {
        var catalog = b.Proxy.Services.GetRequiredService<VirtualServerCatalog>();
        var changed = new ConcurrentQueue<string>();
        catalog.Changed += changed.Enqueue;

        await a.Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "team", Tools = ["everything:echo"], AuthTokens = ["team-token"] });
        var plan = await PlanAsync(catalog, p => p is not null, "the new virtual server");
        Assert.Equal(["everything:echo"], plan!.Definition.Tools);
        Assert.True(plan.AccessRule.Tokens.Matches("team-token")); // the catalog holds the real tokens, not masks

        await a.Admin.UpdateVirtualServerAsync("team", new VirtualServerDefinition { Tools = ["everything:echo", "everything:add"], AuthTokens = ["***"] });
        plan = await PlanAsync(catalog, p => p?.Definition.Tools?.Count == 2, "the update");
        Assert.True(plan!.AccessRule.Tokens.Matches("team-token"));

        await a.Admin.UnregisterVirtualServerAsync("team");
        await PlanAsync(catalog, p => p is null, "the delete");
        Assert.Equal(["team", "team", "team"], changed);
    }

    private static Task<VirtualServerPlan?> PlanAsync(VirtualServerCatalog catalog, Func<VirtualServerPlan?, bool> done, string what) =>
        Eventually.GetAsync(() => Task.FromResult(catalog.TryGet("team", out var plan) ? plan : null), done, $"{what} to reach the other instance", Bound);

    private static Task<GatewayHarness> StartAsync(IMcpStore store, TimeSpan reconcileInterval, Func<IServiceProvider, IRegistryChangeFeed>? feed = null) =>
        GatewayHarness.StartAsync(o => o.ReconcileInterval = reconcileInterval, store, builder =>
        {
            if (feed is not null) builder.Services.AddSingleton<IRegistryChangeFeed>(feed);
        });

    private static Func<IServiceProvider, IRegistryChangeFeed> RedisFeed(RedisServer redis, string channel) => _ =>
        new RedisChangeFeed(new RedisChangeFeedOptions { Configuration = redis.Configuration, Channel = channel }, NullLogger<RedisChangeFeed>.Instance);
}
