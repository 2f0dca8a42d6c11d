using McpServerless.Configuration;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams.Auth;
using McpServerless.Registry;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;

namespace McpServerless.Proxy.Downstream;

internal static class ProxyEndpoints
{
    /// <summary>
    /// Upstream connections plus the SDK's MCP server as the downstream front. Sessions are stateful for clients
    /// that initialize (MCP 2024-11-05 to 2025-11-25: <c>Mcp-Session-Id</c>, GET stream, DELETE, legacy SSE) and
    /// stateless for 2026-07-28 clients, on the same endpoints.
    /// </summary>
    public static IServiceCollection AddMcpProxy(this IServiceCollection services)
    {
        services.AddSingleton<DownstreamSessions>();
        services.AddSingleton<SessionAdmission>();
        services.AddSingleton<UpstreamCredentials>();
        services.AddSingleton<UpstreamManager>();
        services.AddHostedService(sp => sp.GetRequiredService<UpstreamManager>());
        services.AddSingleton<IMcpRuntimeView>(sp => sp.GetRequiredService<UpstreamManager>());
        services.AddSingleton<IUpstreamLookup>(sp => sp.GetRequiredService<UpstreamManager>());
        services.AddSingleton<ProxySessionSetup>();
        services.AddSingleton<StatelessBridge>();
        services.AddSingleton<ListenStreams>();

        // The SDK's session manager names session ids when it reaps idle sessions; an id is a credential, so only its
        // warnings and errors are logged.
        services.Configure<LoggerFilterOptions>(o => o.AddFilter("ModelContextProtocol.AspNetCore.StatefulSessionManager", LogLevel.Warning));
        services.AddMcpServer().WithHttpTransport();
        services.AddOptions<HttpServerTransportOptions>().Configure<ProxySessionSetup, IOptions<McpProxyOptions>, TimeProvider>((transport, setup, gateway, time) =>
        {
            transport.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCP9006 // Reaping idle sessions is what keeps abandoned clients from holding slots and isolated upstreams.
            transport.IdleTimeout = gateway.Value.Limits.SessionIdleTimeout;
#pragma warning restore MCP9006
            transport.TimeProvider = time;
#pragma warning disable MCP9004 // /{name}/sse is part of the product: clients that only speak 2024-11-05 use it, behind the gateway's auth.
            transport.EnableLegacySse = true;
#pragma warning restore MCP9004
            transport.ConfigureSessionOptions = setup.ConfigureAsync;
#pragma warning disable MCPEXP002 // Tracking sessions is how upstream notifications reach them and how an unregister ends them.
            transport.RunSessionHandler = setup.RunAsync;
#pragma warning restore MCPEXP002
        });
        return services;
    }

    /// <summary>
    /// <c>/{name}/stream</c> (streamable HTTP) and <c>/{name}/sse</c> + <c>/{name}/message</c> (legacy SSE) per server;
    /// <c>/mcp</c> and <c>/sse</c> aggregated. The SDK maps each pattern with its legacy pair, which also gives the
    /// aliases <c>/{name}</c> and <c>/{name}/stream/sse</c>. With OAuth, the protected resource metadata of each.
    /// </summary>
    public static void MapMcpProxy(this WebApplication app)
    {
        app.UseMiddleware<ProxyAccessMiddleware>();
        if (app.Services.GetRequiredService<AccessPolicy>().OAuthEnabled)
        {
            app.MapGet(ProtectedResources.MetadataPath + "/{**suffix}",
                (HttpContext context, string? suffix, ProtectedResourceMetadataEndpoint metadata, IUpstreamLookup upstreams, AccessPolicy policy) =>
                    metadata.ServeAsync(context, suffix, path => ScopesOf(path, upstreams, policy)));
        }
        app.MapMcp("/mcp").WithMetadata(AggregateEndpointMetadata.Instance);
        app.MapMcp("").WithMetadata(AggregateEndpointMetadata.Instance);
        var perServer = app.MapGroup("/{name}");
        perServer.MapMcp("/stream").WithMetadata(ServerEndpointMetadata.Instance);
        perServer.MapMcp("").WithMetadata(ServerEndpointMetadata.Instance);
    }

    /// <summary>
    /// The scopes of an MCP endpoint's resource path, for its metadata: a server's own (or the defaults), and on the
    /// aggregated endpoint the defaults with every server's, so a client that asks for them all sees every server there.
    /// Null for a path that is no endpoint.
    /// </summary>
    private static IEnumerable<string>? ScopesOf(string path, IUpstreamLookup upstreams, AccessPolicy policy)
    {
        if (path is "/mcp" or "/sse" or "/mcp/sse")
            return policy.ScopesFor(McpAccessRule.Open).Scopes.Concat(upstreams.Connections.SelectMany(c => policy.ScopesFor(c.Model.AccessRule).Scopes));
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var endpoint = segments is [_] or [_, "stream" or "sse"] or [_, "stream", "sse"];
        return endpoint && upstreams.TryGet(segments[0], out var server) ? policy.ScopesFor(server.Model.AccessRule).Scopes : null;
    }
}
