using McpServerless.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace McpServerless.Audit;

public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="AuditLog"/> (also as the hosted service that writes its queue) with validated
    /// <see cref="AuditOptions"/>. The store is the one <see cref="Hosting.StorageServiceCollectionExtensions.AddMcpGatewayStorage"/>
    /// chose for <c>McpProxy:Storage:Provider</c>, or in memory.
    /// </summary>
    public static IServiceCollection AddMcpGatewayAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuditOptions>()
            .Bind(configuration.GetSection(AuditOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>());
        services.TryAddSingleton<IAuditStore, InMemoryAuditStore>();
        services.TryAddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        return services;
    }
}
