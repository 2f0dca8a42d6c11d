using McpServerless.Audit;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Storage;

namespace McpServerless.Tests.Audit;

/// <summary>
/// Two replicas of the Functions admin app on one shared store (a real redis-server, Azurite's tables): each writes
/// its admin changes there, and either answers <c>GET /admin/audit</c> with both replicas' entries.
/// </summary>
public sealed class SharedAuditTests
{
    [Theory]
    [InlineData("Redis")]
    [InlineData("Table")]
    public async Task Changes_made_on_either_replica_are_read_from_both(string provider)
    {
        await using var backend = await StartBackendAsync(provider);
        await using var a = await FunctionsHarness.StartAsync(backend.Settings("functions-a"));
        await using var b = await FunctionsHarness.StartAsync(backend.Settings("functions-b"));

        await a.Admin.RegisterAsync(Definitions.Stdio("shared"));
        await Eventually.GetAsync(() => b.Admin.GetAuditAsync(), p => p.Entries.Count == 1, "the first replica's entry");
        await b.Admin.UpdateAsync("shared", Definitions.Stdio("shared") with { Description = "changed on b" });

        foreach (var replica in new[] { a, b })
        {
            var page = await Eventually.GetAsync(() => replica.Admin.GetAuditAsync(new AuditQuery { Server = "shared" }), p => p.Entries.Count == 2, "both replicas' entries");
            Assert.Equal([("mcps/update", "functions-b"), ("mcps/create", "functions-a")], page.Entries.Select(e => (e.Method, e.Replica!)));
        }
    }

    private static async Task<Backend> StartBackendAsync(string provider)
    {
        if (provider == "Redis")
        {
            var redis = await RedisServer.StartNewAsync();
            return new Backend(redis, new() { ["McpProxy:Storage:Provider"] = "Redis", ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration });
        }
        var azurite = await AzuriteServer.StartNewAsync();
        return new Backend(azurite, new()
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = azurite.ConnectionString,
            ["McpProxy:Audit:TableName"] = UniqueName.Table(),
        });
    }

    private sealed class Backend(IAsyncDisposable server, Dictionary<string, string?> settings) : IAsyncDisposable
    {
        public Dictionary<string, string?> Settings(string instance) => new(settings) { ["McpProxy:InstanceId"] = instance };

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}
