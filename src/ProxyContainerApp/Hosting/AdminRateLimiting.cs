using System.Threading.RateLimiting;
using McpServerless.Configuration;
using McpServerless.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

/// <summary>
/// A fixed window of <c>McpProxy:Limits:AdminRequestsPerMinute</c> on the admin API, per authenticated caller (its
/// token) and, for requests the admin policy refuses, per client address, so a flood of bad requests from an address
/// never uses up a real admin's window; excess gets 429 problem details. The caller is known before its partition is
/// chosen: <see cref="UseAdminRateLimiter"/> lets the access policy decide first (checking an OAuth token is
/// asynchronous, a partition choice is not), and the admin call reuses that decision.
/// </summary>
internal static class AdminRateLimiting
{
    public const string PolicyName = "admin";

    public static IServiceCollection AddAdminRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(PolicyName, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<McpProxyOptions>>().Value.Limits.AdminRequestsPerMinute;
                var policy = context.RequestServices.GetRequiredService<AccessPolicy>();
                var address = policy.ResolveClientIp(context)?.ToString() ?? "unknown";
                var partition = AccessPolicy.AdminDecisionOf(context)?.IsAllowed == true
                    ? $"caller:{AccessPolicy.CallerKeyOf(context) ?? address}"
                    : $"address:{address}";
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = "60";
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: "The admin API rate limit was reached; retry after a minute.").ExecuteAsync(rejected.HttpContext);
            };
        });

    /// <summary>The rate limiter, preceded by the admin decision of every request to a rate-limited admin route.</summary>
    public static void UseAdminRateLimiter(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == PolicyName)
                await context.RequestServices.GetRequiredService<AccessPolicy>().AuthorizeAdminAsync(context);
            await next(context);
        });
        app.UseRateLimiter();
    }
}
