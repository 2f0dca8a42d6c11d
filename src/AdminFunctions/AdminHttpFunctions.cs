using McpServerless.Admin;
using McpServerless.WebUi;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace McpServerless.AdminFunctions;

/// <summary>
/// The admin API as HTTP triggers: each is one call into <see cref="AdminApi"/>, which authorizes, validates,
/// redacts and maps errors exactly as on the local host. Triggers are anonymous because the gateway's own
/// <see cref="Security.AccessPolicy"/> (admin tokens) runs inside every call. The worker executes the returned
/// <see cref="IResult"/> on the request's HttpContext, so the bytes written are those of the local host.
/// </summary>
public sealed class AdminHttpFunctions(AdminApi api, MeteredAdminRequests requests)
{
    [Function(nameof(Health))]
    public Task<IResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Health)] HttpRequest request, string? probe) =>
        requests.RunAsync(FunctionRoutes.Health, request, r => api.HealthAsync(r, probe));

    [Function(nameof(BaseHealth))]
    public Task<IResult> BaseHealth(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.BaseHealth)] HttpRequest request, string? probe) =>
        requests.RunAsync(FunctionRoutes.BaseHealth, request, r => api.HealthAsync(r, probe));

    [Function(nameof(ListMcps))]
    public Task<IResult> ListMcps(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Mcps)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.Mcps, request, api.ListAsync);

    [Function(nameof(RegisterMcp))]
    public Task<IResult> RegisterMcp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionRoutes.Mcps)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.Mcps, request, api.RegisterAsync);

    [Function(nameof(GetMcp))]
    public Task<IResult> GetMcp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Mcp)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.Mcp, request, r => api.GetAsync(r, name));

    [Function(nameof(UpdateMcp))]
    public Task<IResult> UpdateMcp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = FunctionRoutes.Mcp)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.Mcp, request, r => api.UpdateAsync(r, name));

    [Function(nameof(DeleteMcp))]
    public Task<IResult> DeleteMcp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionRoutes.Mcp)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.Mcp, request, r => api.DeleteAsync(r, name));

    [Function(nameof(ListVirtualServers))]
    public Task<IResult> ListVirtualServers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.VirtualServers)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.VirtualServers, request, api.ListVirtualServersAsync);

    [Function(nameof(RegisterVirtualServer))]
    public Task<IResult> RegisterVirtualServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionRoutes.VirtualServers)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.VirtualServers, request, api.RegisterVirtualServerAsync);

    [Function(nameof(GetVirtualServer))]
    public Task<IResult> GetVirtualServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.VirtualServer)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.VirtualServer, request, r => api.GetVirtualServerAsync(r, name));

    [Function(nameof(UpdateVirtualServer))]
    public Task<IResult> UpdateVirtualServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = FunctionRoutes.VirtualServer)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.VirtualServer, request, r => api.UpdateVirtualServerAsync(r, name));

    [Function(nameof(DeleteVirtualServer))]
    public Task<IResult> DeleteVirtualServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionRoutes.VirtualServer)] HttpRequest request, string name) =>
        requests.RunAsync(FunctionRoutes.VirtualServer, request, r => api.DeleteVirtualServerAsync(r, name));

    [Function(nameof(ListTools))]
    public Task<IResult> ListTools(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Tools)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.Tools, request, api.ListToolsAsync);

    [Function(nameof(Metrics))]
    public Task<IResult> Metrics(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Metrics)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.Metrics, request, api.MetricsAsync);

    [Function(nameof(Audit))]
    public Task<IResult> Audit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionRoutes.Audit)] HttpRequest request) =>
        requests.RunAsync(FunctionRoutes.Audit, request, api.AuditAsync);

    [Function(nameof(WebUi))]
    public Task<IResult> WebUi(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = FunctionRoutes.WebUi)] HttpRequest request, string? path) =>
        requests.RunAsync(FunctionRoutes.WebUi, request, r => Task.FromResult(WebUiAssets.Serve(r.HttpContext, path, WebUiSettings.AdminOnly)));
}
