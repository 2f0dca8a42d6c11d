using System.Text;
using McpServerless.Bridge;
using McpServerless.Hosting;
using McpServerless.Tests.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// Replicas wired as the gateway wires them (<see cref="BridgeServiceCollectionExtensions.AddMcpGatewayBridge"/>)
/// share the requestState key ring through the configured store, on a real redis-server and a real Azurite: what one
/// protects, another reads. It reads a state as another replica's (naming it), not as a forgery, which is what a
/// retry reaching the wrong replica needs; a gateway with a key ring of its own reads it as a forgery.
/// </summary>
public sealed class SharedKeyRingTests
{
    [Fact]
    public async Task Replicas_sharing_a_redis_read_each_others_states()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var prefix = UniqueName.KeyPrefix();
        Dictionary<string, string?> Settings(string replica, string keyPrefix) => new()
        {
            ["McpProxy:InstanceId"] = replica,
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:Storage:Redis:KeyPrefix"] = keyPrefix,
        };

        await AssertSharedAsync(Settings("replica-a", prefix), Settings("replica-b", prefix), Settings("replica-c", UniqueName.KeyPrefix()));
    }

    [Fact]
    public async Task Replicas_sharing_a_table_read_each_others_states()
    {
        await using var azurite = await AzuriteServer.StartNewAsync();
        var table = UniqueName.Table();
        Dictionary<string, string?> Settings(string replica, string tableName) => new()
        {
            ["McpProxy:InstanceId"] = replica,
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = azurite.ConnectionString,
            ["McpProxy:Storage:Table:TableName"] = tableName,
        };

        await AssertSharedAsync(Settings("replica-a", table), Settings("replica-b", table), Settings("replica-c", UniqueName.Table()));
    }

    [Fact]
    public async Task Without_a_shared_store_each_process_keeps_its_own_keys()
    {
        await using var a = Replica(new() { ["McpProxy:InstanceId"] = "replica-a" });
        await using var b = Replica(new() { ["McpProxy:InstanceId"] = "replica-b" });

        var state = a.GetRequiredService<RequestStateProtector>().Protect("call-1", "caller", "weather", DateTimeOffset.UtcNow.AddMinutes(1));

        Assert.Equal(RequestStateRejection.Tampered, b.GetRequiredService<RequestStateProtector>().Unprotect(state, "caller", "weather").Rejection);
        Assert.Equal(0, a.GetRequiredService<PendingCallRegistry>().Count);
    }

    private static async Task AssertSharedAsync(Dictionary<string, string?> first, Dictionary<string, string?> second, Dictionary<string, string?> elsewhere)
    {
        await using var a = Replica(first);
        await using var b = Replica(second);
        await using var c = Replica(elsewhere);
        var expires = DateTimeOffset.UtcNow.AddMinutes(1);

        // Each replica's keys reach the other: a state either protects, the other opens.
        var fromA = a.GetRequiredService<RequestStateProtector>().Protect("call-a", "caller", "weather", expires);
        var atB = b.GetRequiredService<RequestStateProtector>().Unprotect(fromA, "caller", "weather");
        Assert.Equal(RequestStateRejection.OtherReplica, atB.Rejection);
        Assert.Equal("replica-a", atB.Replica);
        Assert.Equal("call-a", a.GetRequiredService<RequestStateProtector>().Unprotect(fromA, "caller", "weather").CallId);

        var fromB = b.GetRequiredService<RequestStateProtector>().Protect("call-b", "caller", "weather", expires);
        Assert.Equal("replica-b", a.GetRequiredService<RequestStateProtector>().Unprotect(fromB, "caller", "weather").Replica);

        // The same purpose on one key ring, seen directly: B decrypts what A encrypted.
        var secret = a.GetRequiredService<IDataProtectionProvider>().CreateProtector(RequestStateProtector.Purpose).Protect(Encoding.UTF8.GetBytes("shared"));
        Assert.Equal("shared", Encoding.UTF8.GetString(b.GetRequiredService<IDataProtectionProvider>().CreateProtector(RequestStateProtector.Purpose).Unprotect(secret)));

        // A gateway on another key ring (another prefix or table) cannot tell the state from a forgery.
        Assert.Equal(RequestStateRejection.Tampered, c.GetRequiredService<RequestStateProtector>().Unprotect(fromA, "caller", "weather").Rejection);
    }

    private static ServiceProvider Replica(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddMcpGatewayCore(configuration);
        services.AddMcpGatewayBridge(configuration);
        return services.BuildServiceProvider();
    }
}
