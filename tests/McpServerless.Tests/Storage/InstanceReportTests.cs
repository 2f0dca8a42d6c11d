using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Storage;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Storage;

/// <summary>What an admin host without connections shows comes from live replicas, not from one that went away.</summary>
public sealed class InstanceReportTests
{
    [Fact]
    public async Task A_live_replica_supersedes_what_a_vanished_one_last_reported()
    {
        var store = new InMemoryMcpStore();
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.InstanceId = "live-replica";
            o.ReconcileInterval = TimeSpan.FromSeconds(1);
        }, store);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("beat"));
        await gateway.WaitConnectedAsync("beat");
        // A replica that died while its upstream was failing: its last word is newer than anything the live one said so far.
        await store.ReportAsync(new McpInstanceReport(
            new McpRuntimeStatus { Name = "beat", State = ConnectionState.Error, LastError = "gone", Instance = "vanished-replica", ReportedAt = DateTimeOffset.UtcNow },
            []));
        var adminView = new StoredRuntimeView(store);

        var status = await Eventually.GetAsync(async () => (await adminView.ListStatusesAsync())["beat"], s => s.Instance == "live-replica",
            "the live replica's report to be the freshest", TimeSpan.FromSeconds(10));

        Assert.Equal(ConnectionState.Connected, status.State);
        Assert.Contains(await adminView.ListToolsAsync(), t => t.McpName == "beat" && t.Name == "echo");
    }
}
