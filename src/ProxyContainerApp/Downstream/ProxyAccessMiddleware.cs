using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using McpServerless.VirtualServers;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Runs before any MCP work on the proxy endpoints: an unknown server is 404, a refused caller 401/403
/// (global tokens, then the server's <c>requireAuth</c>/<c>authTokens</c>/<c>allowedIPs</c>, or on a virtual server
/// its own, which stand in for its member servers' rules; with OAuth, access tokens and their scopes, refusals
/// carrying the challenge MCP clients follow), a request on a session
/// that is not the caller's own on this route is 404, a new session beyond <c>McpProxy:Limits</c> is 503, and so is a
/// server that is not connected within its timeout — all as problem details. These checks run on every request, so
/// a revoked token or a narrowed allow-list ends a caller's access to its open sessions at once. A POST body that is
/// not UTF-8 JSON is refused here as well (<see cref="JsonRpcBodyCheck"/>). Then a 2026-07-28 tool
/// call whose <c>Mcp-Param-*</c> headers contradict its arguments is refused as the SDK refuses its own
/// (<see cref="ParamHeaders"/>), on every endpoint, against the tool the endpoint shows under that name. What it established travels on as the request's <see cref="IMcpProxyFeature"/>.
/// </summary>
internal sealed class ProxyAccessMiddleware(RequestDelegate next, IUpstreamLookup upstreams, VirtualServerCatalog virtualServers, AccessPolicy policy, SessionAdmission admission)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        string server;
        UpstreamConnection? upstream = null;
        VirtualServerPlan? plan = null;
        if (endpoint?.Metadata.GetMetadata<ServerEndpointMetadata>() is not null)
        {
            server = context.GetRouteValue("name") as string ?? "";
            if (!upstreams.TryGet(server, out upstream) && !virtualServers.TryGet(server, out plan))
            {
                await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No MCP server named '{server}' is registered.").ExecuteAsync(context);
                return;
            }
            var decision = await policy.AuthorizeMcpAsync(context, upstream?.Model.AccessRule ?? plan!.AccessRule);
            if (!decision.IsAllowed)
            {
                await AccessPolicy.Deny(context, decision).ExecuteAsync(context);
                return;
            }
        }
        else if (endpoint?.Metadata.GetMetadata<AggregateEndpointMetadata>() is not null)
        {
            server = DownstreamSessions.Aggregate;
            var decision = await policy.AuthorizeMcpAsync(context, McpAccessRule.Open);
            if (!decision.IsAllowed)
            {
                await AccessPolicy.Deny(context, decision).ExecuteAsync(context);
                return;
            }
        }
        else
        {
            await next(context);
            return;
        }

        var route = SessionRoute.Of(context, server);
        var feature = new McpProxyFeature(route, new CallerIdentity(policy.ResolveClientIp(context), AccessPolicy.BearerToken(context.Request).ToString(), context.User as OAuthPrincipal)) { Virtual = plan };
        context.Features.Set<IMcpProxyFeature>(feature);
        SessionSlot? slot = null;
        if (route.SessionIdOf(context.Request) is { } sessionId)
        {
            if (!admission.IsOwnedBy(sessionId, SessionOwner.Of(context, route, policy)))
            {
                await SessionNotFound().ExecuteAsync(context);
                return;
            }
        }
        else if (route.OpensSession(context.Request))
        {
            slot = admission.TryReserve(SessionOwner.Of(context, route, policy), out var refusal);
            if (slot is null)
            {
                context.Response.Headers.RetryAfter = "5";
                await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many sessions", detail: refusal).ExecuteAsync(context);
                return;
            }
            feature.Slot = slot;
            // A legacy SSE stream names its session id in its first event: nothing is sent before the id is bound to
            // its owner, or the client's first message could arrive before the gateway knows whose session it is.
            if (route.LegacySse) context.Response.OnStarting(() => slot.Settled);
        }

        try
        {
            if (HttpMethods.IsPost(context.Request.Method) && await JsonRpcBodyCheck.CheckAsync(context.Request, context.RequestAborted) is { } badBody)
            {
                await badBody.ExecuteAsync(context);
                return;
            }
            if (upstream is not null && await WaitConnectedAsync(context, upstream) is { } unavailable)
            {
                await unavailable.ExecuteAsync(context);
                return;
            }
            feature.Upstream = upstream;
            if (ParamHeaders.CalledTool(context.Request) is { } called && ExposedTool(upstream, plan, feature.Caller, called) is { } tool
                && await ParamHeaders.RejectMismatchAsync(context, called, tool))
                return;
            await next(context);
        }
        finally
        {
            slot?.FreeIfUnused();
        }
    }

    // The tool the endpoint shows under that name: its schema's x-mcp-header annotations are what the caller saw.
    private Tool? ExposedTool(UpstreamConnection? upstream, VirtualServerPlan? plan, CallerIdentity caller, string name) =>
        upstream is not null ? upstream.Session?.Tools.FirstOrDefault(t => t.Name == name)
        : plan is not null ? VirtualRelay.ExposedTool(plan, upstreams, name)
        : AggregateRelay.ExposedTool(upstreams, policy, caller, name);

    private static async Task<IResult?> WaitConnectedAsync(HttpContext context, UpstreamConnection upstream)
    {
        if (await upstream.WaitConnectedAsync(upstream.Model.Timeout, context.RequestAborted) is null)
        {
            context.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Upstream unavailable",
                detail: $"MCP server '{upstream.Name}' is not connected{(upstream.Status.LastError is { } error ? $": {error}" : ".")}");
        }
        return null;
    }

    // The same answer whether the id never existed, has ended, or belongs to another route or caller: an id reveals nothing.
    private static IResult SessionNotFound() =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Session not found",
            detail: "No such session here; open a new one with initialize.");
}
