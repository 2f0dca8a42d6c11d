using McpServerless.Metrics;
using Microsoft.AspNetCore.Http;

namespace McpServerless.AdminFunctions;

/// <summary>
/// Counts each admin call under its route ("GET /gateway/admin/mcps/{name}") in the shared
/// <see cref="GatewayMetrics"/>. The status is only final once the worker has executed the result, so the
/// count is taken then, by a result that wraps the handler's.
/// </summary>
public sealed class MeteredAdminRequests(GatewayMetrics metrics)
{
    public async Task<IResult> RunAsync(string route, HttpRequest request, Func<HttpRequest, Task<IResult>> handler)
    {
        var routeName = $"{request.Method} /{route}";
        try
        {
            return new MeteredResult(await handler(request), routeName, metrics);
        }
        catch
        {
            // The worker turns an unhandled exception into a 500; count it as one.
            metrics.RecordRequest(routeName, mcpName: null, StatusCodes.Status500InternalServerError);
            throw;
        }
    }

    private sealed class MeteredResult(IResult inner, string routeName, GatewayMetrics metrics) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var statusCode = StatusCodes.Status500InternalServerError;
            try
            {
                await inner.ExecuteAsync(httpContext);
                statusCode = httpContext.Response.StatusCode;
            }
            finally
            {
                metrics.RecordRequest(routeName, mcpName: null, statusCode);
            }
        }
    }
}
