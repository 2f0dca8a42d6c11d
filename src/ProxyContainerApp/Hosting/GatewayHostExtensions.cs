using System.Net;
using McpServerless.Admin;
using McpServerless.Configuration;
using McpServerless.Hosting;
using McpServerless.Proxy.Downstream;
using McpServerless.Security;
using McpServerless.WebUi;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

public static partial class GatewayHostExtensions
{
    /// <summary>
    /// Adds the whole gateway to a web application: shared services, Kestrel bound to
    /// <c>McpProxy:Host</c>/<c>McpProxy:Port</c>, the shutdown timeout, problem details and the
    /// servers-file preload.
    /// </summary>
    public static WebApplicationBuilder AddMcpGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMcpProxy();
        services.AddMcpGatewayCore(builder.Configuration);
        services.AddGatewayTelemetry(builder.Configuration);
        services.AddProblemDetails();
        services.AddAdminRateLimiting();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<McpProxyOptions>>((kestrel, gateway) =>
        {
            kestrel.Limits.MaxRequestBodySize = gateway.Value.Limits.MaxRequestBodyBytes;
            Listen(kestrel, gateway.Value);
        });
        services.AddOptions<HostOptions>()
            .Configure<IOptions<McpProxyOptions>>((host, gateway) => host.ShutdownTimeout = gateway.Value.ShutdownTimeout);
        services.AddHostedService<ServersFileLoader>();
        return builder;
    }

    /// <summary>Maps <c>/healthz</c>, the admin API and the proxy endpoints, with request metrics and problem details for errors.</summary>
    public static WebApplication MapMcpGateway(this WebApplication app)
    {
        // A body over the limit or a malformed request surfaces as BadHttpRequestException from deep in a reader:
        // it keeps its own 4xx status instead of becoming a 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        UseBaseUrlPath(app);
        app.UseRouting();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseRateLimiter();

        app.MapGet("/healthz", (HttpRequest r, AdminApi api) => api.HealthAsync(r));

        var admin = app.MapGroup(AdminApi.RoutePrefix).RequireRateLimiting(AdminRateLimiting.PolicyName);
        admin.MapGet("/mcps", (HttpRequest r, AdminApi api) => api.ListAsync(r));
        admin.MapPost("/mcps", (HttpRequest r, AdminApi api) => api.RegisterAsync(r));
        admin.MapGet("/mcps/{name}", (HttpRequest r, string name, AdminApi api) => api.GetAsync(r, name));
        admin.MapPut("/mcps/{name}", (HttpRequest r, string name, AdminApi api) => api.UpdateAsync(r, name));
        admin.MapDelete("/mcps/{name}", (HttpRequest r, string name, AdminApi api) => api.DeleteAsync(r, name));
        admin.MapGet("/tools", (HttpRequest r, AdminApi api) => api.ListToolsAsync(r));
        admin.MapGet("/metrics", (HttpRequest r, AdminApi api) => api.MetricsAsync(r));

        app.MapWebUi(WebUiSettings.Gateway);
        app.MapGatewayTelemetry();
        app.MapMcpProxy();

        var policy = app.Services.GetRequiredService<AccessPolicy>();
        if (policy.AdminIsLoopbackOnly)
            LogAdminLoopbackOnly(app.Logger);
        return app;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin tokens are configured: the admin API answers loopback clients only. Set McpProxy:AdminTokens to open it.")]
    private static partial void LogAdminLoopbackOnly(ILogger logger);
}
