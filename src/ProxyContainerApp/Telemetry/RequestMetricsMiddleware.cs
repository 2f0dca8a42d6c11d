using System.Collections.Concurrent;
using McpServerless.Metrics;
using McpServerless.Proxy.Downstream;
using Microsoft.AspNetCore.Http.Features;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// Counts every request by route pattern ("GET /admin/mcps/{name}") and by MCP server name for
/// <c>GET /admin/metrics</c>, and tags ASP.NET Core's own <c>http.server.request.duration</c> of a server's endpoints
/// with <c>mcp_gateway.server</c> (a virtual server's with <c>mcp_gateway.virtual_server</c>).
/// </summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    private const string Unmatched = "unmatched";
    private readonly ConcurrentDictionary<(string Method, string Pattern), string> _routeNames = new();

    public async Task InvokeAsync(HttpContext context)
    {
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
            if (mcpName is not null)
            {
                var tag = context.Features.Get<IMcpProxyFeature>()?.Virtual is null ? McpConventions.GatewayServer : McpConventions.GatewayVirtualServer;
                context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(tag, mcpName));
            }
            metrics.RecordRequest(route, mcpName, context.Response.StatusCode);
        }
    }
}
