using McpServerless.Metrics;
using McpServerless.Security;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace McpServerless.Proxy.Hosting;

/// <summary>
/// OpenTelemetry for the gateway: its own meter (requests per route and server, upstream calls per server and tool,
/// connection state, reconnects, open sessions) and ASP.NET Core's built-in meters, scraped at <c>/metrics</c>
/// (Prometheus text, admin access required). Setting the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable also
/// exports metrics and traces (one span per relayed request) over OTLP.
/// </summary>
internal static class GatewayTelemetry
{
    public const string ScrapePath = "/metrics";

    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ProxyInstruments>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mcp-serverless"))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing.AddSource(GatewayMetrics.MeterName, "Microsoft.AspNetCore"));
        if (!string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();
        return services;
    }

    public static void MapGatewayTelemetry(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint(ScrapePath, meterProvider: null, configureBranchedPipeline: scrape => scrape.Use(async (context, next) =>
        {
            var decision = context.RequestServices.GetRequiredService<AccessPolicy>().AuthorizeAdmin(context);
            if (decision.IsAllowed) await next(context);
            else await AccessPolicy.Deny(context, decision).ExecuteAsync(context);
        }), optionsName: null);
}
