using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// A stateless (2026-07-28) caller's <c>subscriptions/listen</c> on the aggregated endpoint and on a virtual server: it
/// hears the changes of the servers behind them (here the test server over stdio, a 2025-11-25 session upstream whose
/// <c>add_tool</c> sends <c>tools/list_changed</c> and whose <c>touch</c> sends <c>resources/updated</c> to subscribers).
/// </summary>
public sealed class ListenEndpointTests : IAsyncLifetime
{
    private const string Item = "test://items/1";

    private static readonly VirtualServerDefinition Curated = new()
    {
        Name = "curated",
        Tools = ["alpha:touch", "alpha:add_tool"],
        Resources = ["alpha:test://items/*"],
    };

    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("alpha"));
        await _gateway.WaitConnectedAsync("alpha");
        await _gateway.Admin.RegisterVirtualServerAsync(Curated);
        await Eventually.GetAsync(() => Task.FromResult(_gateway.Proxy.Services.GetRequiredService<VirtualServerCatalog>().TryGet(Curated.Name, out _)),
            served => served, "the catalog to serve the virtual server");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_listener_on_the_aggregate_hears_a_servers_tool_list_change_and_is_granted_no_resource_it_cannot_route()
    {
        await using var client = await _gateway.ConnectAsync("mcp");
        var heard = client.Heard(NotificationMethods.ToolListChangedNotification);
        using var closing = new CancellationTokenSource();
        var listening = client.ListenAsync(Item, closing.Token, toolsListChanged: true);

        var ack = await heard.NextAsync();
        Assert.Equal(NotificationMethods.SubscriptionsAcknowledgedNotification, ack.Method);
        Assert.True(ack.Params!["notifications"]!["toolsListChanged"]!.GetValue<bool>());
        Assert.Null(ack.Params["notifications"]!["resourceSubscriptions"]);

        await client.CallToolAsync("alpha__add_tool", new Dictionary<string, object?> { ["name"] = "fresh" });
        var changed = await heard.NextAsync();
        Assert.Equal(NotificationMethods.ToolListChangedNotification, changed.Method);
        Assert.Equal(SubscriptionOf(ack), SubscriptionOf(changed));

        await closing.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
    }

    [Fact]
    public async Task A_listener_on_a_virtual_server_hears_its_members_resource_updates_and_tool_list_changes()
    {
        await using var client = await _gateway.ConnectAsync($"{Curated.Name}/stream");
        var heard = client.Heard(NotificationMethods.ToolListChangedNotification);
        using var closing = new CancellationTokenSource();
        var listening = client.ListenAsync(Item, closing.Token, toolsListChanged: true);

        var ack = await heard.NextAsync();
        Assert.True(ack.Params!["notifications"]!["toolsListChanged"]!.GetValue<bool>());
        Assert.Equal(Item, ack.Params["notifications"]!["resourceSubscriptions"]![0]!.GetValue<string>());

        Assert.Equal("notified 1", (await client.CallToolAsync("touch", new Dictionary<string, object?> { ["uri"] = Item })).Text());
        var update = await heard.NextAsync();
        Assert.Equal(NotificationMethods.ResourceUpdatedNotification, update.Method);
        Assert.Equal(Item, update.Params!["uri"]!.GetValue<string>());
        Assert.Equal(SubscriptionOf(ack), SubscriptionOf(update));

        await client.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "fresh" });
        Assert.Equal(NotificationMethods.ToolListChangedNotification, (await heard.NextAsync()).Method);

        await closing.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
        // The listener was the resource's only holder: the upstream is let go of it.
        await using var session = await _gateway.ConnectAsync($"{Curated.Name}/stream", protocolVersion: ProxyHarness.SessionProtocol);
        await Eventually.GetAsync(async () => (await session.CallToolAsync("touch", new Dictionary<string, object?> { ["uri"] = Item })).Text(),
            told => told == "notified 0", "the upstream to let go of a resource no one listens to");
    }

    [Fact]
    public async Task A_listen_on_a_virtual_server_ends_with_an_error_when_the_virtual_server_changes()
    {
        await using var client = await _gateway.ConnectAsync($"{Curated.Name}/stream");
        var heard = client.Heard(NotificationMethods.ToolListChangedNotification);
        var listening = client.ListenAsync(Item, CancellationToken.None, toolsListChanged: true);
        await heard.NextAsync();

        await _gateway.Admin.UpdateVirtualServerAsync(Curated.Name, Curated with { Tools = ["alpha:touch"] });

        var ended = await Assert.ThrowsAsync<McpProtocolException>(() => listening);
        Assert.Contains("listen again", ended.Message);
    }

    private static string? SubscriptionOf(JsonRpcNotification notification) => notification.Params?["_meta"]?[MetaKeys.SubscriptionId]?.ToJsonString();
}
