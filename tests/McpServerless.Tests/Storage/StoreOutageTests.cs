using System.Diagnostics;
using System.Net;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>
/// The backend goes away under a running gateway: the admin API answers 503 problem details quickly (never 500,
/// never a hang) and recovers by itself once the backend is back. Each test owns its server, since it stops it.
/// </summary>
public abstract class StoreOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan OutageAnswerLimit = TimeSpan.FromSeconds(10);
    private GatewayHarness _gateway = null!;
    private IMcpStore _store = null!;

    /// <summary>Whether entries written before the outage are still there after it.</summary>
    protected abstract bool KeepsDataAcrossRestart { get; }

    public async Task InitializeAsync()
    {
        _store = await StartBackendAsync();
        _gateway = await GatewayHarness.StartAsync(store: _store);
    }

    public virtual async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        // A store handed to the gateway stays its creator's to dispose.
        if (_store is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }

    protected abstract Task<IMcpStore> StartBackendAsync();

    protected abstract Task StopBackendAsync();

    protected abstract Task RestartBackendAsync();

    [Fact]
    public async Task Admin_api_answers_503_during_an_outage_and_recovers_by_itself()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("before"));

        await StopBackendAsync();
        await AssertUnavailableAsync(HttpMethod.Get, "admin/mcps");
        await AssertUnavailableAsync(HttpMethod.Get, "admin/mcps/before");
        await AssertUnavailableAsync(HttpMethod.Post, "admin/mcps", """{"name":"during","transport":"stdio","command":"echo"}""");
        await AssertUnavailableAsync(HttpMethod.Delete, "admin/mcps/before");
        var clock = Stopwatch.StartNew();
        using (var health = await _gateway.Http.GetAsync("healthz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.True(clock.Elapsed < OutageAnswerLimit, $"healthz took {clock.Elapsed}");
        }
        // Readiness fails with the store; liveness does not, so a storage outage never restarts a replica.
        using (var ready = await _gateway.Http.GetAsync("healthz/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using (var live = await _gateway.Http.GetAsync("healthz/live"))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        await RestartBackendAsync();
        await WaitUntilAsync(async () =>
        {
            using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, "admin/mcps"));
            return response.StatusCode == HttpStatusCode.OK;
        });
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("after"));
        var names = (await _gateway.Proxy.ListMcpsAsync()).Select(s => s.Name).ToList();
        Assert.Equal(KeepsDataAcrossRestart ? ["after", "before"] : ["after"], names);
        using var healthy = await _gateway.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    private async Task AssertUnavailableAsync(HttpMethod method, string path, string? json = null)
    {
        var clock = Stopwatch.StartNew();
        using var request = _gateway.AdminRequest(method, path, json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        using var response = await _gateway.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Storage unavailable", body);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(clock.Elapsed < OutageAnswerLimit, $"{method} {path} took {clock.Elapsed}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The gateway did not recover within 30 s of the backend's return.");
            await Task.Delay(200);
        }
    }
}

/// <summary>Redis with an append-only file, so a restart must bring back what was stored.</summary>
public sealed class RedisOutageTests : StoreOutageTests
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("mcpgw-redis-").FullName;
    private RedisServer _redis = null!;

    protected override bool KeepsDataAcrossRestart => true;

    protected override async Task<IMcpStore> StartBackendAsync()
    {
        _redis = await RedisServer.StartNewAsync(_dataDirectory);
        return new RedisMcpStore(_redis.StoreOptions(UniqueName.KeyPrefix()));
    }

    protected override Task StopBackendAsync() => _redis.StopAsync();

    protected override Task RestartBackendAsync() => _redis.StartAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>
/// Azurite runs with in-memory persistence here, so its restart loses the data (an emulator property, not the
/// store's; Azure Table Storage keeps it): the test asserts 503 during the outage and service after it, with the
/// table created again by the store.
/// </summary>
public sealed class TableOutageTests : StoreOutageTests
{
    private AzuriteServer _azurite = null!;

    protected override bool KeepsDataAcrossRestart => false;

    protected override async Task<IMcpStore> StartBackendAsync()
    {
        _azurite = await AzuriteServer.StartNewAsync();
        return new TableMcpStore(_azurite.StoreOptions(UniqueName.Table()));
    }

    protected override Task StopBackendAsync() => _azurite.StopAsync();

    protected override Task RestartBackendAsync() => _azurite.StartAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}
