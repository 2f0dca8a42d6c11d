using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using McpServerless.AdminFunctions;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.Tests.Infrastructure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Admin;

/// <summary>What only the Functions app has to prove; the shared behaviour is in <see cref="FunctionsAdminApiTests"/>.</summary>
public sealed class AdminFunctionsTests
{
    [Fact]
    public void No_trigger_route_is_one_the_functions_host_reserves()
    {
        // The host refuses to load a trigger whose route (without the prefix) starts with "admin" or "runtime".
        var routes = TriggerRoutes().ToList();
        Assert.All(routes, route => Assert.False(
            route.StartsWith("admin", StringComparison.OrdinalIgnoreCase) || route.StartsWith("runtime", StringComparison.OrdinalIgnoreCase),
            $"reserved route: {route}"));

        // Every local admin route exists below the base (the console too), plus /healthz and its probes at the root.
        Assert.Equal(
            ["gateway/admin/audit", "gateway/admin/mcps", "gateway/admin/mcps/{name}", "gateway/admin/metrics", "gateway/admin/tools",
             "gateway/admin/virtual-servers", "gateway/admin/virtual-servers/{name}", "gateway/healthz/{probe?}", "gateway/ui/{*path}", "healthz/{probe?}"],
            routes.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_admin_route_and_method_has_its_trigger()
    {
        var triggers = typeof(AdminHttpFunctions).GetMethods()
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .Select(m => m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(a => a is not null)!)
            .SelectMany(t => t.Methods!.Select(method => $"{method.ToUpperInvariant()} {t.Route}"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.All(McpServerless.Admin.AdminRoutes.All, route =>
            Assert.Contains($"{route.Method} {FunctionRoutes.Base}/{route.Template}", triggers));
    }

    [Fact]
    public async Task Health_also_answers_at_the_root_like_the_local_host()
    {
        await using var functions = await FunctionsHarness.StartAsync();
        using var response = await functions.Http.GetAsync(new Uri(functions.Root, "healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"status\":\"ok\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_client_outside_the_allow_list_gets_403_even_with_a_token()
    {
        await using var functions = await FunctionsHarness.StartAsync(new Dictionary<string, string?> { ["McpProxy:AdminAllowIPs:0"] = "10.0.0.0/8" });
        IAdminTestHost host = functions;
        using var response = await functions.Http.SendAsync(host.AdminRequest(HttpMethod.Get, "admin/mcps"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Writes_are_refused_without_a_token_and_leave_nothing_behind()
    {
        await using var functions = await FunctionsHarness.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/mcps")
        {
            Content = new StringContent("""{"name":"sneaky","transport":"stdio","command":"echo"}""", new MediaTypeHeaderValue("application/json")),
        };
        using var response = await functions.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await functions.GetStoredAsync("sneaky"));
    }

    [Fact]
    public async Task Starting_without_admin_tokens_is_refused()
    {
        // Every request reaches the worker from the Functions host on loopback: the loopback-only fallback would be open to all.
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            FunctionsHarness.StartAsync(new Dictionary<string, string?> { ["McpProxy:AdminTokens:0"] = "" }));
        Assert.Contains("AdminTokens", ex.Message);
    }

    [Fact]
    public async Task Status_and_tools_are_what_proxy_replicas_reported_with_their_age()
    {
        await using var functions = await FunctionsHarness.StartAsync();
        await functions.Admin.RegisterAsync(Definitions.Stdio("files"));
        var reports = (IMcpReportStore)functions.Services.GetRequiredService<IMcpStore>();
        var reportedAt = DateTimeOffset.UtcNow.AddSeconds(-5);
        await reports.ReportAsync(Report("files", "replica-1", reportedAt.AddMinutes(-1), ConnectionState.Error, "old"));
        await reports.ReportAsync(Report("files", "replica-2", reportedAt, ConnectionState.Connected, "read_file"));
        await reports.ReportAsync(Report("unregistered", "replica-2", reportedAt, ConnectionState.Connected, "stray"));

        var entry = Assert.Single(await functions.Admin.ListAsync());
        Assert.Equal(ConnectionState.Connected, entry.Status.State);
        Assert.Equal("replica-2", entry.Status.Instance);
        Assert.Equal(reportedAt, entry.Status.ReportedAt);

        var tool = Assert.Single(await functions.Admin.ListToolsAsync());
        Assert.Equal(("read_file", "files"), (tool.Name, tool.McpName));
        Assert.Equal(1, (await functions.Admin.GetMetricsAsync()).ConnectedMcps);
    }

    private static McpInstanceReport Report(string name, string instance, DateTimeOffset at, ConnectionState state, string tool) =>
        new(new McpRuntimeStatus { Name = name, State = state, Instance = instance, ReportedAt = at, ToolCount = 1 },
            [new ToolInfo { Name = tool, McpName = name }]);

    private static IEnumerable<string> TriggerRoutes() =>
        typeof(AdminHttpFunctions).GetMethods()
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters())
            .Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()?.Route)
            .OfType<string>();
}
