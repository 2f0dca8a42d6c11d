using McpServerless.Audit;
using McpServerless.ChangeFeed;
using McpServerless.Hosting;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Storage;

/// <summary>
/// <c>McpProxy:Storage</c> and <c>McpProxy:ChangeFeed</c> pick the backends. Nothing here connects: every
/// backend connects lazily, on first use.
/// </summary>
public sealed class StorageConfigurationTests
{
    private const string Azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";
    private const string ServiceBus = "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=test;SharedAccessKey=dGVzdA==";

    [Fact]
    public async Task Without_settings_the_store_is_in_memory_and_the_feed_in_process()
    {
        await using var services = Build([]);

        Assert.IsType<InMemoryMcpStore>(services.GetRequiredService<IMcpStore>());
        Assert.Same(services.GetRequiredService<IMcpStore>(), services.GetRequiredService<IMcpReportStore>());
        Assert.Same(services.GetRequiredService<IMcpStore>(), services.GetRequiredService<IVirtualServerStore>());
        Assert.IsType<InProcessChangeFeed>(services.GetRequiredService<IRegistryChangeFeed>());
        Assert.IsType<InMemoryAuditStore>(services.GetRequiredService<IAuditStore>());
    }

    [Fact]
    public async Task Redis_store_and_feed_share_the_storage_connection_settings()
    {
        await using var services = Build(new()
        {
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = "127.0.0.1:1",
            ["McpProxy:ChangeFeed:Provider"] = "Redis",
        });

        var store = Assert.IsType<RedisMcpStore>(services.GetRequiredService<IMcpStore>());
        Assert.Same(store, services.GetRequiredService<IMcpReportStore>());
        Assert.Same(store, services.GetRequiredService<IVirtualServerStore>());
        Assert.IsType<RedisChangeFeed>(services.GetRequiredService<IRegistryChangeFeed>());
        Assert.IsType<RedisAuditStore>(services.GetRequiredService<IAuditStore>());
        Assert.Equal("127.0.0.1:1", services.GetRequiredService<IOptions<Configuration.ChangeFeedOptions>>().Value.Redis.Configuration);
    }

    [Fact]
    public async Task Table_store_with_a_Service_Bus_feed()
    {
        await using var services = Build(new()
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = Azurite,
            ["McpProxy:ChangeFeed:Provider"] = "ServiceBus",
            ["McpProxy:ChangeFeed:ServiceBus:ConnectionString"] = ServiceBus,
            ["McpProxy:InstanceId"] = "replica-1",
        });

        var store = Assert.IsType<TableMcpStore>(services.GetRequiredService<IMcpStore>());
        Assert.Same(store, services.GetRequiredService<IMcpReportStore>());
        Assert.Same(store, services.GetRequiredService<IVirtualServerStore>());
        Assert.IsType<TableAuditStore>(services.GetRequiredService<IAuditStore>());
        var feed = Assert.IsType<ServiceBusChangeFeed>(services.GetRequiredService<IRegistryChangeFeed>());
        Assert.Equal("replica-1", feed.SubscriptionName);
    }

    [Fact]
    public async Task Table_store_can_use_an_endpoint_and_a_managed_identity()
    {
        await using var services = Build(new()
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:Endpoint"] = "https://account.table.core.windows.net",
            ["McpProxy:Storage:Table:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
        });

        Assert.IsType<TableMcpStore>(services.GetRequiredService<IMcpStore>());
    }

    [Fact]
    public async Task A_store_registered_by_the_host_wins()
    {
        var own = new InMemoryMcpStore();
        var collection = new ServiceCollection().AddLogging().AddSingleton<IMcpStore>(own);
        collection.AddMcpGatewayStorage(Configuration(new() { ["McpProxy:Storage:Provider"] = "Redis", ["McpProxy:Storage:Redis:Configuration"] = "127.0.0.1:1" }));
        await using var services = collection.BuildServiceProvider();

        Assert.Same(own, services.GetRequiredService<IMcpStore>());
        Assert.Same(own, services.GetRequiredService<IMcpReportStore>());
        Assert.Same(own, services.GetRequiredService<IVirtualServerStore>());
    }

    [Theory]
    [InlineData("McpProxy:Storage:Provider", "Redis", "McpProxy:Storage:Redis:Configuration")]
    [InlineData("McpProxy:Storage:Provider", "Table", "McpProxy:Storage:Table:ConnectionString or McpProxy:Storage:Table:Endpoint")]
    [InlineData("McpProxy:ChangeFeed:Provider", "Redis", "McpProxy:ChangeFeed:Redis:Configuration")]
    [InlineData("McpProxy:ChangeFeed:Provider", "ServiceBus", "McpProxy:ChangeFeed:ServiceBus:ConnectionString or McpProxy:ChangeFeed:ServiceBus:FullyQualifiedNamespace")]
    public async Task A_provider_without_its_settings_fails_validation_naming_them(string key, string provider, string missing)
    {
        await using var services = Build(new() { [key] = provider });

        var ex = Assert.Throws<OptionsValidationException>(() => ValidateAll(services));
        Assert.Contains(missing, ex.Message);
    }

    [Theory]
    [InlineData("McpProxy:Storage:Table:TableName", "bad-name!", "McpProxy:Storage:Table:TableName")]
    [InlineData("McpProxy:Storage:Table:Endpoint", "ftp://example", "McpProxy:Storage:Table:Endpoint")]
    [InlineData("McpProxy:Storage:Table:Timeout", "00:00:00", "McpProxy:Storage:Table:Timeout")]
    public async Task Invalid_table_settings_fail_validation_naming_them(string key, string value, string named)
    {
        await using var services = Build(new()
        {
            ["McpProxy:Storage:Provider"] = "Table",
            ["McpProxy:Storage:Table:ConnectionString"] = Azurite,
            [key] = value,
        });

        var ex = Assert.Throws<OptionsValidationException>(() => ValidateAll(services));
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public async Task An_invalid_redis_configuration_string_fails_validation_naming_it()
    {
        await using var services = Build(new()
        {
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = "127.0.0.1:6379,connectTimeout=soon",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => ValidateAll(services));
        Assert.Contains("McpProxy:Storage:Redis:Configuration", ex.Message);
    }

    [Fact]
    public async Task A_service_bus_subscription_idle_timeout_under_five_minutes_is_refused()
    {
        await using var services = Build(new()
        {
            ["McpProxy:ChangeFeed:Provider"] = "ServiceBus",
            ["McpProxy:ChangeFeed:ServiceBus:FullyQualifiedNamespace"] = "ns.servicebus.windows.net",
            ["McpProxy:ChangeFeed:ServiceBus:SubscriptionIdleTimeout"] = "00:01:00",
        });

        var ex = Assert.Throws<OptionsValidationException>(() => ValidateAll(services));
        Assert.Contains("McpProxy:ChangeFeed:ServiceBus:SubscriptionIdleTimeout", ex.Message);
    }

    [Theory]
    [InlineData("Retention", "00:00:30")]
    [InlineData("Capacity", "0")]
    [InlineData("QueueCapacity", "0")]
    [InlineData("TableName", "audit-log")]
    public async Task Invalid_audit_settings_fail_validation_naming_them(string setting, string value)
    {
        await using var services = Build(new() { [$"McpProxy:Audit:{setting}"] = value });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AuditOptions>>().Value);
        Assert.Contains($"McpProxy:Audit:{setting}", ex.Message);
    }

    private static void ValidateAll(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<Configuration.StorageOptions>>().Value;
        _ = services.GetRequiredService<IOptions<Configuration.ChangeFeedOptions>>().Value;
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = Configuration(settings);
        var collection = new ServiceCollection().AddLogging();
        // The whole core, so the defaults and their order are what a host gets.
        collection.AddMcpGatewayCore(configuration);
        return collection.BuildServiceProvider();
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
