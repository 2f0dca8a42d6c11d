using McpServerless.Audit;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using McpServerless.Storage.Table;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpServerless.Hosting;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the store chosen by <c>McpProxy:Storage:Provider</c> (as <see cref="IMcpStore"/> and, the same
    /// instance, <see cref="IVirtualServerStore"/> and <see cref="IMcpReportStore"/>; and the <see cref="IAuditStore"/> of the same backend) and the feed chosen by <c>McpProxy:ChangeFeed:Provider</c>, with their
    /// settings validated at start. Registrations made earlier win, so a host may supply its own store;
    /// for the InMemory and InProcess providers the defaults of <see cref="GatewayServiceCollectionExtensions.AddMcpGatewayCore"/> apply.
    /// </summary>
    public static IServiceCollection AddMcpGatewayStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.AddOptions<ChangeFeedOptions>()
            .Bind(configuration.GetSection(ChangeFeedOptions.SectionName))
            .PostConfigure<IOptions<StorageOptions>>((feed, storage) => InheritRedisConnection(feed.Redis, storage.Value.Redis))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChangeFeedOptions>, ChangeFeedOptionsValidator>());

        switch (configuration.GetSection(StorageOptions.SectionName).GetValue<StorageProvider>(nameof(StorageOptions.Provider)))
        {
            case StorageProvider.Redis:
                AddStore(services, sp => new RedisMcpStore(Storage(sp).Redis, sp.GetRequiredService<ILogger<RedisMcpStore>>()));
                services.TryAddSingleton<IAuditStore>(sp => new RedisAuditStore(Storage(sp).Redis, Audit(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RedisAuditStore>>()));
                break;
            case StorageProvider.Table:
                AddStore(services, sp => new TableMcpStore(Storage(sp).Table, sp.GetRequiredService<ILogger<TableMcpStore>>()));
                services.TryAddSingleton<IAuditStore>(sp => new TableAuditStore(Storage(sp).Table, Audit(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TableAuditStore>>()));
                break;
        }
        services.TryAddSingleton<IMcpReportStore>(sp => sp.GetRequiredService<IMcpStore>() as IMcpReportStore
            ?? throw new InvalidOperationException($"The registered {nameof(IMcpStore)} does not keep instance reports."));
        // The same object, because servers and virtual servers share one namespace that only one store can keep.
        services.TryAddSingleton<IVirtualServerStore>(sp => sp.GetRequiredService<IMcpStore>() as IVirtualServerStore
            ?? throw new InvalidOperationException($"The registered {nameof(IMcpStore)} does not keep virtual servers."));

        switch (configuration.GetSection(ChangeFeedOptions.SectionName).GetValue<ChangeFeedProvider>(nameof(ChangeFeedOptions.Provider)))
        {
            case ChangeFeedProvider.Redis:
                services.TryAddSingleton<IRegistryChangeFeed>(sp =>
                    new RedisChangeFeed(Feed(sp).Redis, sp.GetRequiredService<ILogger<RedisChangeFeed>>()));
                break;
            case ChangeFeedProvider.ServiceBus:
                services.TryAddSingleton<IRegistryChangeFeed>(sp =>
                    new ServiceBusChangeFeed(Feed(sp).ServiceBus, sp.GetRequiredService<IOptions<McpProxyOptions>>().Value.InstanceId,
                        sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ServiceBusChangeFeed>>()));
                break;
        }
        return services;
    }

    private static void AddStore<TStore>(IServiceCollection services, Func<IServiceProvider, TStore> create)
        where TStore : class, IMcpStore, IVirtualServerStore, IMcpReportStore
    {
        services.TryAddSingleton(create);
        services.TryAddSingleton<IMcpStore>(sp => sp.GetRequiredService<TStore>());
    }

    /// <summary>A Redis feed without its own connection settings uses the Redis store's server.</summary>
    private static void InheritRedisConnection(RedisConnectionOptions feed, RedisConnectionOptions storage)
    {
        if (!string.IsNullOrWhiteSpace(feed.Configuration)) return;
        feed.Configuration = storage.Configuration;
        feed.Password ??= storage.Password;
    }

    private static StorageOptions Storage(IServiceProvider services) => services.GetRequiredService<IOptions<StorageOptions>>().Value;

    private static AuditOptions Audit(IServiceProvider services) => services.GetRequiredService<IOptions<AuditOptions>>().Value;

    private static ChangeFeedOptions Feed(IServiceProvider services) => services.GetRequiredService<IOptions<ChangeFeedOptions>>().Value;
}
