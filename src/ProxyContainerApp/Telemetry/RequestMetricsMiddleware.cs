using System.Collections.Concurrent;
using System.Diagnostics;
using McpServerless.Metrics;

namespace McpServerless.Proxy.Telemetry;

/// <summary>Counts every request by route pattern ("GET /admin/mcps/{name}") and by MCP server name.</summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    private const string Unmatched = "unmatched";
    private readonly ConcurrentDictionary<(string Method, string Pattern), string> _routeNames = new();

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } pattern }
                ? _routeNames.GetOrAdd((context.Request.Method, pattern), static key => $"{key.Method} {key.Pattern}")
                : Unmatched;
            var mcpName = route.Contains("/{name}", StringComparison.Ordinal) && !route.Contains("/admin/", StringComparison.Ordinal)
                ? context.GetRouteValue("name") as string
                : null;
            metrics.RecordRequest(route, mcpName, context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
        }
    }
}
