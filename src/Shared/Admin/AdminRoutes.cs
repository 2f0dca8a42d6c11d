using Microsoft.AspNetCore.Http;

namespace McpServerless.Admin;

/// <summary>
/// The admin API's routes, declared once. The local host maps every entry of <see cref="All"/>; the Functions app
/// declares one trigger per entry under its <c>/gateway</c> base, building its route constants from these (a trigger
/// attribute needs a constant), and a test holds the two lists equal.
/// </summary>
public static class AdminRoutes
{
    public const string Health = "healthz/{probe?}";
    public const string Mcps = "admin/mcps";
    public const string Mcp = "admin/mcps/{name}";
    public const string VirtualServers = "admin/virtual-servers";
    public const string VirtualServer = "admin/virtual-servers/{name}";
    public const string Tools = "admin/tools";
    public const string Metrics = "admin/metrics";
    public const string Audit = "admin/audit";

    /// <summary>Every route with its handler; a route's one parameter (<c>{name}</c>, <c>{probe}</c>) is the handler's third argument.</summary>
    public static IReadOnlyList<AdminRoute> All { get; } =
    [
        new("GET", Health, (api, request, probe) => api.HealthAsync(request, probe)),
        new("GET", Mcps, (api, request, _) => api.ListAsync(request)),
        new("POST", Mcps, (api, request, _) => api.RegisterAsync(request)),
        new("GET", Mcp, (api, request, name) => api.GetAsync(request, name!)),
        new("PUT", Mcp, (api, request, name) => api.UpdateAsync(request, name!)),
        new("DELETE", Mcp, (api, request, name) => api.DeleteAsync(request, name!)),
        new("GET", VirtualServers, (api, request, _) => api.ListVirtualServersAsync(request)),
        new("POST", VirtualServers, (api, request, _) => api.RegisterVirtualServerAsync(request)),
        new("GET", VirtualServer, (api, request, name) => api.GetVirtualServerAsync(request, name!)),
        new("PUT", VirtualServer, (api, request, name) => api.UpdateVirtualServerAsync(request, name!)),
        new("DELETE", VirtualServer, (api, request, name) => api.DeleteVirtualServerAsync(request, name!)),
        new("GET", Tools, (api, request, _) => api.ListToolsAsync(request)),
        new("GET", Metrics, (api, request, _) => api.MetricsAsync(request)),
        new("GET", Audit, (api, request, _) => api.AuditAsync(request)),
    ];
}

/// <summary>One admin route: its method, its template (without a leading slash) and what answers it.</summary>
public sealed record AdminRoute(string Method, string Template, Func<AdminApi, HttpRequest, string?, Task<IResult>> Handle)
{
    /// <summary>The name of the template's one parameter, or null for none.</summary>
    public string? Parameter { get; } = Template.IndexOf('{') is var open and >= 0 ? Template[(open + 1)..Template.IndexOf('}')].TrimEnd('?') : null;

    /// <summary>Whether the route is part of the admin API proper (rate limited), rather than a health probe.</summary>
    public bool IsAdmin => Template.StartsWith("admin/", StringComparison.Ordinal);
}
