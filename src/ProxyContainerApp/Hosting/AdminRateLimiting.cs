using System.Threading.RateLimiting;
using McpServerless.Configuration;
using McpServerless.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

/// <summary>A fixed window of <c>McpProxy:Limits:AdminRequestsPerMinute</c> per client address on the admin API; excess gets 429 problem details.</summary>
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
                var client = context.RequestServices.GetRequiredService<AccessPolicy>().ResolveClientIp(context)?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
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
                    detail: "The admin API rate limit for your address was reached; retry after a minute.").ExecuteAsync(rejected.HttpContext);
            };
        });
}
