using Azure.Data.Tables;
using McpServerless.Bridge;
using McpServerless.Configuration;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpServerless.Hosting;

public static class BridgeServiceCollectionExtensions
{
    /// <summary>The Data Protection application name: replicas protect and unprotect for one another only when it matches.</summary>
    public const string ApplicationName = "McpServerless.Gateway";

    /// <summary>
    /// Registers the revision bridge's parts that need no relay: ASP.NET Core Data Protection with its key ring in the
    /// store chosen by <c>McpProxy:Storage:Provider</c> (so every replica reads every other's states), the
    /// <see cref="RequestStateProtector"/> naming this replica (<c>McpProxy:InstanceId</c>) and the
    /// <see cref="PendingCallRegistry"/>. Call it after <see cref="GatewayServiceCollectionExtensions.AddMcpGatewayCore"/>,
    /// which binds the store's settings.
    /// </summary>
    /// <remarks>
    /// Key rings: <c>InMemory</c> keeps keys in the process (one replica; states die with it, as its pending calls do);
    /// <c>Redis</c> keeps them in the list <c>{KeyPrefix}dataprotection-keys</c> of the registry's Redis; <c>Table</c>
    /// keeps them in partition <c>dataprotection</c> of the registry's table. Keys are stored as Data Protection writes
    /// them, unencrypted: as safe as the store, which already holds the servers' secrets.
    /// </remarks>
    public static IServiceCollection AddMcpGatewayBridge(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        var dataProtection = services.AddDataProtection().SetApplicationName(ApplicationName);
        switch (configuration.GetSection(StorageOptions.SectionName).GetValue<StorageProvider>(nameof(StorageOptions.Provider)))
        {
            case StorageProvider.Redis:
                services.TryAddSingleton<DataProtectionRedis>();
                services.AddOptions<KeyManagementOptions>().Configure<DataProtectionRedis>((options, redis) =>
                    options.XmlRepository = new RedisXmlRepository(() => redis.Database, redis.KeyRing));
                break;
            case StorageProvider.Table:
                services.AddOptions<KeyManagementOptions>().Configure<IOptions<StorageOptions>, ILoggerFactory>((options, storage, logging) =>
                {
                    var table = storage.Value.Table;
                    options.XmlRepository = new TableXmlRepository(new TableConnection(table, table.TableName, logging.CreateLogger<TableXmlRepository>()).Table);
                });
                break;
            default:
                dataProtection.UseEphemeralDataProtectionProvider();
                break;
        }
        services.TryAddSingleton(sp => new RequestStateProtector(sp.GetRequiredService<IDataProtectionProvider>(),
            sp.GetRequiredService<IOptions<McpProxyOptions>>().Value.InstanceId, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new PendingCallRegistry(sp.GetRequiredService<TimeProvider>(),
            maxParkedPerCaller: sp.GetRequiredService<IOptions<McpProxyOptions>>().Value.Limits.MaxParkedCallsPerCaller));
        return services;
    }

    /// <summary>
    /// The Redis connection of the key ring, apart from the store's: Data Protection reads synchronously through a
    /// <c>Func&lt;IDatabase&gt;</c>, and connects on first use like the store does (without failing while Redis is down).
    /// </summary>
    internal sealed class DataProtectionRedis(IOptions<StorageOptions> storage) : IDisposable
    {
        private readonly Lazy<ConnectionMultiplexer> _multiplexer = new(() => ConnectionMultiplexer.Connect(RedisConnection.Configure(storage.Value.Redis)));

        public IDatabase Database => _multiplexer.Value.GetDatabase(storage.Value.Redis.Database);

        public RedisKey KeyRing => storage.Value.Redis.KeyPrefix + "dataprotection-keys";

        public void Dispose()
        {
            if (_multiplexer.IsValueCreated) _multiplexer.Value.Dispose();
        }
    }
}
