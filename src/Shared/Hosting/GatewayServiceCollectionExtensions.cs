using McpServerless.Admin;
using McpServerless.Audit;
using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Metrics;
using McpServerless.Registry;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using McpServerless.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace McpServerless.Hosting;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Registers what every host shares: validated <see cref="McpProxyOptions"/>, the access policy (with OAuth access
    /// tokens when <c>McpProxy:OAuth</c> names an authority), the
    /// registry over the configured store and change feed (in-memory and in-process unless a host
    /// registered others first), the audit log, metrics, health checks and the admin API.
    /// </summary>
    public static IServiceCollection AddMcpGatewayCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<McpProxyOptions>()
            .Bind(configuration.GetSection(McpProxyOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpProxyOptions>, McpProxyOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<FrontDoorPolicy>();
        services.TryAddSingleton<AccessPolicy>();
        services.AddGatewayOAuth();

        services.AddMcpGatewayStorage(configuration);
        services.TryAddSingleton<IMcpStore, InMemoryMcpStore>();
        services.TryAddSingleton<IRegistryChangeFeed, InProcessChangeFeed>();
        services.AddMcpGatewayAudit(configuration);
        services.TryAddSingleton<McpRegistry>();
        services.TryAddSingleton<IMcpRuntimeView, StoredRuntimeView>();
        services.TryAddSingleton<AdminApi>();

        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("storage", tags: [HealthProbes.ReadyTag])
            .AddCheck<ChangeFeedHealthCheck>("changeFeed", tags: [HealthProbes.ReadyTag]);
        return services;
    }
}
