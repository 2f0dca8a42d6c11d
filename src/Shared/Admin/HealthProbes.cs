using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpServerless.Admin;

/// <summary>
/// The probes below <c>/healthz</c>, declared once for every host. <c>/healthz</c> itself runs every check;
/// <c>/healthz/live</c> runs none, so it answers while the process serves requests and a storage outage never
/// restarts a replica; <c>/healthz/ready</c> runs the checks tagged <see cref="ReadyTag"/> (storage, change feed),
/// which a replica needs before it takes traffic.
/// </summary>
public static class HealthProbes
{
    public const string Live = "live";

    public const string Ready = "ready";

    /// <summary>The tag of a check that readiness (and <c>/healthz</c>) runs but liveness does not.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Which checks <paramref name="probe"/> runs (null: all of them); false for an unknown probe.</summary>
    internal static bool TryGetPredicate(string? probe, out Func<HealthCheckRegistration, bool>? predicate)
    {
        switch (probe)
        {
            case null:
                predicate = null;
                return true;
            case Live:
                predicate = static _ => false;
                return true;
            case Ready:
                predicate = static check => check.Tags.Contains(ReadyTag);
                return true;
            default:
                predicate = null;
                return false;
        }
    }
}
