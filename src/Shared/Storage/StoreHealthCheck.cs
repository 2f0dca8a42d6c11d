using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpServerless.Storage;

/// <summary>Healthy when the store answers a point read (of a reserved name, so the answer is cheap).</summary>
public sealed class StoreHealthCheck(IMcpStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.GetAsync("healthz", cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (McpStoreUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy("The store is unreachable.", ex);
        }
    }
}
