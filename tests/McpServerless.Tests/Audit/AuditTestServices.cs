using McpServerless.Audit;
using McpServerless.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Audit;

/// <summary>An <see cref="AuditLog"/> over a given store and clock, with the logging and metrics a host gives it (fake collectors).</summary>
internal static class AuditTestServices
{
    public static ServiceProvider Build(IAuditStore store, TimeProvider time, Action<AuditOptions>? configure = null, string instance = "replica-1")
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddFakeLogging();
        services.AddSingleton(store);
        services.AddSingleton(time);
        services.Configure<AuditOptions>(options => configure?.Invoke(options));
        services.Configure<McpProxyOptions>(options => options.InstanceId = instance);
        services.AddSingleton<AuditLog>();
        return services.BuildServiceProvider();
    }

    /// <summary>Records through a started log, then stops it, which writes everything queued.</summary>
    public static async Task RecordAsync(this IServiceProvider services, Action<AuditLog> record)
    {
        var log = services.GetRequiredService<AuditLog>();
        await log.StartAsync(CancellationToken.None);
        record(log);
        await log.StopAsync(CancellationToken.None);
    }
}
