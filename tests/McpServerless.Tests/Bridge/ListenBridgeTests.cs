using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// Resource updates across revisions: a stateless (2026-07-28) SDK client's <c>subscriptions/listen</c> on a
/// 2025-11-25 upstream (npm's server-everything over stdio, which sends <c>notifications/resources/updated</c> for its
/// subscriptions) becomes <c>resources/subscribe</c> upstream, and the upstream's updates come back on the listen stream.
/// </summary>
public sealed class ListenBridgeTests : IAsyncLifetime
{
    private const string Server = "everything";
    private const string First = "demo://resource/static/document/architecture.md";

    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.EverythingStdio(Server));
        await _gateway.WaitConnectedAsync(Server);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_stateless_listener_gets_the_updates_of_the_resources_it_listens_to_from_a_session_upstream()
    {
        await using var client = await _gateway.ConnectAsync($"{Server}/stream");
        Assert.Equal(McpRevisions.Stateless, client.NegotiatedProtocolVersion);
        var heard = client.Heard();

        using var closing = new CancellationTokenSource();
        var listening = client.ListenAsync(First, closing.Token, toolsListChanged: true);
        var ack = await heard.NextAsync();
        Assert.Equal(NotificationMethods.SubscriptionsAcknowledgedNotification, ack.Method);
        // Granted as asked: server-everything takes resources/subscribe and says its tools may change.
        Assert.Equal(First, ack.Params!["notifications"]!["resourceSubscriptions"]![0]!.GetValue<string>());
        Assert.True(ack.Params["notifications"]!["toolsListChanged"]!.GetValue<bool>());
        Assert.Null(ack.Params["notifications"]!["resourcesListChanged"]); // offered, not asked for

        // The upstream sends one update at once for each resource it was subscribed to.
        await client.CallToolAsync("toggle-subscriber-updates");
        var update = await heard.NextAsync();
        Assert.Equal(NotificationMethods.ResourceUpdatedNotification, update.Method);
        Assert.Equal(First, update.Params!["uri"]!.GetValue<string>());
        var subscription = update.Params["_meta"]![MetaKeys.SubscriptionId];
        Assert.NotNull(subscription);
        Assert.Equal(subscription!.ToJsonString(), ack.Params["_meta"]![MetaKeys.SubscriptionId]!.ToJsonString());

        await closing.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
    }

    [Fact]
    public async Task A_listen_stream_ends_with_an_error_when_its_server_is_unregistered()
    {
        await using var client = await _gateway.ConnectAsync($"{Server}/stream");
        var heard = client.Heard();
        var listening = client.ListenAsync(First, CancellationToken.None, toolsListChanged: true);
        await heard.NextAsync();

        await _gateway.Admin.UnregisterAsync(Server);

        var ended = await Assert.ThrowsAsync<McpProtocolException>(() => listening);
        Assert.Contains("listen again", ended.Message);
    }
}
