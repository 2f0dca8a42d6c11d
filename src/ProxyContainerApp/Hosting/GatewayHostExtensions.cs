using System.Net;
using McpServerless.Admin;
using McpServerless.Configuration;
using McpServerless.Hosting;
using McpServerless.Proxy.Downstream;
using McpServerless.Proxy.Telemetry;
using McpServerless.Security;
using McpServerless.VirtualServers;
using McpServerless.WebUi;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

public static partial class GatewayHostExtensions
{
    /// <summary>
    /// Adds the whole gateway to a web application: shared services, Kestrel bound to
    /// <c>McpProxy:Host</c>/<c>McpProxy:Port</c>, the shutdown timeout, problem details, the
    /// servers-file preload and the catalog of virtual servers.
    /// </summary>
    public static WebApplicationBuilder AddMcpGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMcpProxy();
        services.AddMcpGatewayCore(builder.Configuration);
        services.AddMcpGatewayBridge(builder.Configuration);
        services.AddGatewayTelemetry(builder.Configuration);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = ExplainHostRefusal);
        services.AddFrontDoor();
        services.AddAdminRateLimiting();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<McpProxyOptions>>((kestrel, gateway) =>
        {
            kestrel.Limits.MaxRequestBodySize = gateway.Value.Limits.MaxRequestBodyBytes;
            Listen(kestrel, gateway.Value);
        });
        services.AddOptions<HostOptions>()
            .Configure<IOptions<McpProxyOptions>>((host, gateway) => host.ShutdownTimeout = gateway.Value.ShutdownTimeout);
        services.AddHostedService<ServersFileLoader>();
        // What the relay serves on /{virtual}/…, kept in line with the store.
        services.AddSingleton<VirtualServerCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<VirtualServerCatalog>());
        return builder;
    }

    /// <summary>Maps <c>/healthz</c> (and its probes), the admin API and the proxy endpoints, with request metrics and problem details for errors.</summary>
    public static WebApplication MapMcpGateway(this WebApplication app)
    {
        // A body over the limit or a malformed request surfaces as BadHttpRequestException from deep in a reader:
        // it keeps its own 4xx status instead of becoming a 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseFrontDoor();
        UseBaseUrlPath(app);
        app.UseRouting();
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseAdminRateLimiter();

        foreach (var route in AdminRoutes.All)
        {
            var endpoint = app.MapMethods("/" + route.Template, [route.Method],
                (HttpContext context, AdminApi api) => route.Handle(api, context.Request, route.Parameter is { } parameter ? context.GetRouteValue(parameter) as string : null));
            if (route.IsAdmin) endpoint.RequireRateLimiting(AdminRateLimiting.PolicyName);
        }

        app.MapWebUi(WebUiSettings.Gateway);
        app.MapGatewayTelemetry();
        app.MapMcpProxy();

        var policy = app.Services.GetRequiredService<AccessPolicy>();
        if (policy.AdminIsLoopbackOnly)
            LogAdminLoopbackOnly(app.Logger);
        if (app.Services.GetRequiredService<FrontDoorPolicy>().HostsUnrestrictedByDefault)
            LogAnyHost(app.Logger);
        return app;
    }

    // Host filtering refuses before routing runs, with an empty 400 that the status-code pages turn into problem
    // details; no other 400 is answered before routing, so this says why.
    private static void ExplainHostRefusal(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Status == StatusCodes.Status400BadRequest && context.HttpContext.GetEndpoint() is null)
            context.ProblemDetails.Detail ??= "This gateway does not answer to the request's Host header; the hosts it answers to are set by McpProxy:AllowedHosts.";
    }

    /// <summary>
    /// When <c>BaseUrl</c> has a path (<c>https://example.com/gateway</c>), URLs the gateway writes (the legacy SSE
    /// <c>endpoint</c> event) carry it, whether a front proxy forwards the prefix (it is stripped here) or removes it.
    /// </summary>
    private static void UseBaseUrlPath(WebApplication app)
    {
        var baseUrl = app.Services.GetRequiredService<IOptions<McpProxyOptions>>().Value.BaseUrl;
        if (baseUrl is null || new Uri(baseUrl).AbsolutePath.TrimEnd('/') is not { Length: > 0 } basePath) return;
        app.UsePathBase(basePath);
        app.Use((context, next) =>
        {
            if (!context.Request.PathBase.HasValue) context.Request.PathBase = basePath;
            return next(context);
        });
    }

    private static void Listen(KestrelServerOptions kestrel, McpProxyOptions gateway)
    {
        switch (gateway.Host)
        {
            case "*" or "0.0.0.0":
                kestrel.ListenAnyIP(gateway.Port);
                break;
            case "localhost":
                kestrel.ListenLocalhost(gateway.Port);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(gateway.Host), gateway.Port);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The gateway listens on every interface and McpProxy:AllowedHosts is empty, so it answers to any Host header. Set McpProxy:AllowedHosts to the names clients use, to guard against DNS rebinding.")]
    private static partial void LogAnyHost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin tokens are configured: the admin API answers loopback clients only. Set McpProxy:AdminTokens to open it.")]
    private static partial void LogAdminLoopbackOnly(ILogger logger);
}
