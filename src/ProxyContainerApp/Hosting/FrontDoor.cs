using McpServerless.Security;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.HostFiltering;

namespace McpServerless.Proxy.Hosting;

/// <summary>
/// Wires the <see cref="FrontDoorPolicy"/> into the request pipeline, ahead of routing and every endpoint (health,
/// admin, metrics, MCP): ASP.NET Core's host filtering with the policy's hosts, the Origin check, and CORS for the
/// listed origins so a browser-based MCP client (the MCP Inspector) can use the gateway.
/// </summary>
internal static class FrontDoor
{
    public static IServiceCollection AddFrontDoor(this IServiceCollection services)
    {
        // WebApplication's defaults put host filtering outside the whole pipeline, where a refusal is a bare 400 with
        // no body. UseFrontDoor runs the same middleware inside the status-code pages instead, so a refused Host gets
        // problem details like every other refusal.
        foreach (var filter in services.Where(d => d.ServiceType == typeof(IStartupFilter) && d.ImplementationType?.Name == "HostFilteringStartupFilter").ToList())
            services.Remove(filter);
        services.AddOptions<HostFilteringOptions>().Configure<FrontDoorPolicy>((filtering, policy) =>
        {
            filtering.AllowedHosts = [.. policy.AllowedHosts];
            filtering.IncludeFailureMessage = false;
        });

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<FrontDoorPolicy>((cors, policy) => cors.AddDefaultPolicy(origins => origins
            .WithOrigins([.. policy.ListedOrigins])
            .AllowAnyMethod()
            .WithHeaders("Authorization", "Content-Type", "Accept", "Last-Event-ID", McpHeaders.SessionId, McpHeaders.ProtocolVersion, McpHeaders.Method, McpHeaders.Name)
            .WithExposedHeaders(McpHeaders.SessionId, McpHeaders.ProtocolVersion, "WWW-Authenticate")));
        return services;
    }

    public static IApplicationBuilder UseFrontDoor(this IApplicationBuilder app)
    {
        app.UseHostFiltering();
        var policy = app.ApplicationServices.GetRequiredService<FrontDoorPolicy>();
        app.Use((context, next) => policy.IsAllowedOrigin(context.Request)
            ? next(context)
            : AccessPolicy.Deny(context, new AccessDecision(AccessOutcome.Forbidden, AccessPolicy.ForeignOrigin)).ExecuteAsync(context));
        app.UseCors();
        return app;
    }

    /// <summary>The MCP headers a browser client sends and must be allowed to read.</summary>
    private static class McpHeaders
    {
        public const string SessionId = "Mcp-Session-Id";
        public const string ProtocolVersion = "MCP-Protocol-Version";
        public const string Method = "Mcp-Method";
        public const string Name = "Mcp-Name";
    }
}
