using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Telemetry;

/// <summary>
/// The dashboards are built on what the gateway exports: every metric and label the Grafana dashboard's PromQL names, and
/// every metric and dimension the Azure Monitor workbook's KQL names, appear in a real <c>/metrics</c> scrape after MCP traffic.
/// </summary>
public sealed partial class DashboardTests
{
    // Counters export a series only once they counted something: a reconnect, a dropped audit entry.
    private static readonly string[] EventCounters = ["mcp_gateway_upstream_reconnects_total", "mcp_gateway_audit_dropped_total"];

    [Fact]
    public async Task The_grafana_dashboard_and_the_workbook_name_only_exported_metrics_and_attributes()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("shown"));
        await gateway.WaitConnectedAsync("shown");
        await using (var client = await gateway.ConnectAsync("shown/stream", protocolVersion: ProxyHarness.SessionProtocol))
        {
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" });
            await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "x" }); // an error.type
        }
        var scrape = await Eventually.GetAsync(async () =>
        {
            using var response = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "metrics"));
            return await response.Content.ReadAsStringAsync();
        }, t => t.Contains("mcp_server_session_duration_seconds_count", StringComparison.Ordinal), "the session to be measured");
        var series = scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToList();
        var metrics = series.Select(l => l.Split('{', ' ')[0]).ToHashSet(StringComparer.Ordinal);
        var labels = series.SelectMany(l => LabelName().Matches(l).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

        var grafana = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "dashboards", "mcp-gateway.grafana.json")))!;
        var promQl = grafana["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => t!["expr"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(promQl);
        foreach (var name in promQl.SelectMany(e => GatewayName().Matches(e).Select(m => m.Value)).Distinct())
            Assert.True(metrics.Contains(name) || labels.Contains(name) || EventCounters.Contains(name), $"the Grafana dashboard names {name}, which the gateway does not export");

        var workbook = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "infra", "bicep", "workbooks", "mcp-gateway.workbook.json")))!;
        var kql = string.Join('\n', workbook["items"]!.AsArray().Select(i => i!["content"]?["query"]?.GetValue<string>()).OfType<string>());
        foreach (Match metric in KqlMetric().Matches(kql))
            Assert.Contains(metric.Groups[1].Value.Replace('.', '_') + "_seconds_count", metrics);
        foreach (Match dimension in KqlDimension().Matches(kql))
            Assert.Contains(dimension.Groups[1].Value.Replace('.', '_'), labels);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "McpServerless.sln"))) return directory.FullName;
        }
        throw new DirectoryNotFoundException("The repository root is not above the test binaries.");
    }

    [GeneratedRegex(@"\b(?:mcp|gen_ai|error|rpc|network|server)_[a-z_]+\b")]
    private static partial Regex GatewayName();

    [GeneratedRegex(@"[{,]([a-z_]+)=""")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"name == ""([a-z_.]+)""")]
    private static partial Regex KqlMetric();

    [GeneratedRegex(@"customDimensions\[""([a-z_.]+)""\]")]
    private static partial Regex KqlDimension();
}
