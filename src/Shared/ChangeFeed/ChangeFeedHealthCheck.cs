using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpServerless.ChangeFeed;

/// <summary>
/// Whether this instance receives registry changes, as a feed that receives in the background reports it (Service
/// Bus); a feed that cannot tell is taken as healthy. Readiness runs it: a replica that hears no changes serves stale
/// definitions until its next reconcile.
/// </summary>
public sealed class ChangeFeedHealthCheck(IRegistryChangeFeed feed) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        feed is IHealthCheck check ? check.CheckHealthAsync(context, cancellationToken) : Task.FromResult(HealthCheckResult.Healthy());
}
