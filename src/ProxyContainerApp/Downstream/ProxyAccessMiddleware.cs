using McpServerless.Configuration;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Runs before any MCP work on the proxy endpoints: an unknown server is 404, a refused caller 401/403
/// (global tokens, then the server's <c>requireAuth</c>/<c>authTokens</c>/<c>allowedIPs</c>), and a server
/// that is not connected within its timeout is 503, and so is a new session beyond
/// <c>McpProxy:Limits:MaxSessionsPerServer</c> — all as problem details. Then a 2026-07-28 tool call whose
/// <c>Mcp-Param-*</c> headers contradict its arguments is refused as the SDK refuses its own (<see cref="ParamHeaders"/>).
/// </summary>
internal sealed class ProxyAccessMiddleware(RequestDelegate next, UpstreamManager upstreams, AccessPolicy policy, DownstreamSessions sessions, IOptions<McpProxyOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<ServerEndpointMetadata>() is not null)
        {
            if (await AdmitToServerAsync(context) is { } refusal)
            {
                await refusal.ExecuteAsync(context);
                return;
            }
            if (await ParamHeaders.RejectMismatchAsync(context, (UpstreamConnection)context.Items[typeof(UpstreamConnection)]!)) return;
        }
        else if (endpoint?.Metadata.GetMetadata<AggregateEndpointMetadata>() is not null)
        {
            var decision = policy.AuthorizeMcp(context, McpAccessRule.Open);
            if (!decision.IsAllowed)
            {
                await AccessPolicy.Deny(context, decision).ExecuteAsync(context);
                return;
            }
            if (SessionLimitReached(context, DownstreamSessions.Aggregate) is { } full)
            {
                await full.ExecuteAsync(context);
                return;
            }
            context.Items[typeof(CallerIdentity)] = new CallerIdentity(policy.ResolveClientIp(context), AccessPolicy.BearerToken(context.Request).ToString());
        }
        await next(context);
    }

    private async Task<IResult?> AdmitToServerAsync(HttpContext context)
    {
        var name = context.GetRouteValue("name") as string ?? "";
        if (!upstreams.TryGet(name, out var upstream))
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No MCP server named '{name}' is registered.");

        var decision = policy.AuthorizeMcp(context, upstream.AccessRule);
        if (!decision.IsAllowed) return AccessPolicy.Deny(context, decision);
        if (SessionLimitReached(context, name) is { } full) return full;

        if (await upstream.WaitConnectedAsync(upstream.Timeout, context.RequestAborted) is null)
        {
            context.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Upstream unavailable",
                detail: $"MCP server '{name}' is not connected{(upstream.Status.LastError is { } error ? $": {error}" : ".")}");
        }
        context.Items[typeof(UpstreamConnection)] = upstream;
        return null;
    }

    private IResult? SessionLimitReached(HttpContext context, string name)
    {
        var opensSession = (HttpMethods.IsPost(context.Request.Method) && !context.Request.Headers.ContainsKey("Mcp-Session-Id"))
            || (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Value?.EndsWith("/sse", StringComparison.Ordinal) == true);
        if (!opensSession || sessions.CountOf(name) < options.Value.Limits.MaxSessionsPerServer) return null;
        context.Response.Headers.RetryAfter = "5";
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many sessions",
            detail: $"The gateway holds its limit of {options.Value.Limits.MaxSessionsPerServer} sessions here; close one or retry later.");
    }
}
