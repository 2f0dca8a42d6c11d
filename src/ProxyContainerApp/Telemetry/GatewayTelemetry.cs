using Azure.Core;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using McpServerless.Metrics;
using McpServerless.Security;
using McpServerless.Storage;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// OpenTelemetry for the gateway: its meter and activity source (<see cref="ProxyInstruments"/>: MCP spans and
/// durations by the OpenTelemetry MCP semantic conventions, connection state, reconnects, open sessions) and
/// ASP.NET Core's built-in meters, scraped at <c>/metrics</c> (Prometheus text, admin access required). Setting the
/// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable also exports metrics and traces over OTLP; setting
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> exports them, and the logs, to Azure Monitor (Application Insights),
/// authenticated with Entra ID when <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> says <c>Authorization=AAD</c>
/// (the deployment's setting: its Application Insights accepts no key).
/// </summary>
/// <remarks>
/// Tracing is set up only when an exporter is: a tracer provider with nowhere to send spans would still record every
/// request. Without one, trace context still crosses the gateway (<see cref="TraceContext.Inject"/>). A host that adds
/// its own tracer provider (<c>services.AddOpenTelemetry().WithTracing(...)</c>) gets the gateway's sources too.
/// </remarks>
internal static class GatewayTelemetry
{
    public const string ScrapePath = "/metrics";

    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ProxyInstruments>();
        services.AddSingleton<GatewayGauges>();
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(GatewayMetrics.MeterName, "Microsoft.AspNetCore"));
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mcp-serverless"))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter());
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var azureMonitor = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"] is { Length: > 0 };
        if (otlp || azureMonitor) telemetry.WithTracing(_ => { });
        if (otlp) telemetry.UseOtlpExporter();
        if (azureMonitor)
        {
            var credential = AzureMonitorCredential(configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], configuration["AZURE_CLIENT_ID"]);
            telemetry.UseAzureMonitor(monitor =>
            {
                monitor.ConnectionString = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
                monitor.Credential = credential;
            });
        }
        return services;
    }

    /// <summary>
    /// The credential Application Insights wants, read from its standard authentication string
    /// (<c>Authorization=AAD;ClientId=...</c>): none without <c>Authorization=AAD</c> (the key in the connection string
    /// is then enough), else the named user-assigned identity or, failing that, <paramref name="defaultClientId"/>.
    /// </summary>
    internal static TokenCredential? AzureMonitorCredential(string? authenticationString, string? defaultClientId)
    {
        var parts = (authenticationString ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .DistinctBy(pair => pair[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
            return null;
        return AzureCredentials.Create(parts.GetValueOrDefault("ClientId") ?? defaultClientId);
    }

    public static void MapGatewayTelemetry(this WebApplication app)
    {
        app.Services.GetRequiredService<GatewayGauges>();
        app.MapPrometheusScrapingEndpoint(ScrapePath, meterProvider: null, configureBranchedPipeline: scrape => scrape.Use(async (context, next) =>
        {
            var decision = await context.RequestServices.GetRequiredService<AccessPolicy>().AuthorizeAdminAsync(context);
            if (decision.IsAllowed) await next(context);
            else await AccessPolicy.Deny(context, decision).ExecuteAsync(context);
        }), optionsName: null);
    }
}
