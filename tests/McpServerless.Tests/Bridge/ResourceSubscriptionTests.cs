using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// Resource subscriptions through the gateway, on upstreams of both revisions: the test server's <c>touch</c> tool tells
/// the subscribers of a resource that it changed and says how many it told, so each test sees what reached the upstream.
/// A 2025-11-25 upstream hears <c>resources/subscribe</c>; a 2026-07-28 one (pinned) hears the resources on the
/// gateway's <c>subscriptions/listen</c> stream. Either way the upstream holds one subscription however many callers
/// share it, and updates go only to the callers that subscribed.
/// </summary>
public sealed class ResourceSubscriptionTests : IAsyncLifetime
{
    private const string First = "test://items/1";
    private const string Second = "test://items/2";

    // Generous: half of it bounds the server/discover probe, and a stdio child slow to start on a busy machine must not
    // be taken for a server that ignores it (which fails a server pinned to 2026-07-28).
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(60);

    private GatewayHarness _gateway = null!;
    private ExternalProcess _httpUpstream = null!;

    public async Task InitializeAsync()
    {
        (_httpUpstream, var port) = await TestServers.StartHttpAsync();
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("session"));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("stateless-stdio") with { ProtocolVersion = McpRevisions.Stateless, Timeout = UpstreamTimeout });
        await _gateway.Admin.RegisterAsync(TestServers.Http("stateless-http", port, d => d with { ProtocolVersion = McpRevisions.Stateless, Timeout = UpstreamTimeout }));
        foreach (var name in new[] { "session", "stateless-stdio", "stateless-http" }) await _gateway.WaitConnectedAsync(name);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _httpUpstream.DisposeAsync();
    }

    [Theory]
    [InlineData("session", "2025-11-25")]
    [InlineData("stateless-stdio", McpRevisions.Stateless)]
    [InlineData("stateless-http", McpRevisions.Stateless)]
    public async Task Sessions_share_one_upstream_subscription_and_one_sessions_unsubscribe_does_not_silence_another(string server, string upstreamRevision)
    {
        Assert.Equal(upstreamRevision, _gateway.Upstream(server).Session!.Client.NegotiatedProtocolVersion);
        await using var a = await SessionAsync(server);
        await using var b = await SessionAsync(server);
        await using var c = await SessionAsync(server);
        var (heardA, heardB, heardC) = (a.UpdatedUris(), b.UpdatedUris(), c.UpdatedUris());

        await c.SubscribeToResourceAsync(Second);
        await a.SubscribeToResourceAsync(First);
        await b.SubscribeToResourceAsync(First);
        Assert.Equal("notified 1", await TouchAsync(a, First));
        Assert.Equal(First, await heardA.NextAsync());
        Assert.Equal(First, await heardB.NextAsync());

        await a.UnsubscribeFromResourceAsync(First);
        Assert.Equal("notified 1", await TouchAsync(a, First));
        Assert.Equal(First, await heardB.NextAsync());

        // Neither the session that left nor the one that never asked heard of First since: their next update is Second.
        await a.SubscribeToResourceAsync(Second);
        await TouchAsync(c, Second);
        Assert.Equal(Second, await heardA.NextAsync());
        Assert.Equal(Second, await heardC.NextAsync());

        await b.UnsubscribeFromResourceAsync(First);
        await Eventually.GetAsync(() => TouchAsync(b, First), told => told == "notified 0", "the upstream to let go of a resource no session holds");
    }

    [Theory]
    [InlineData("session")]
    [InlineData("stateless-http")]
    public async Task A_sessions_subscriptions_end_with_it(string server)
    {
        await using var other = await SessionAsync(server);
        var leaving = await SessionAsync(server);
        await leaving.SubscribeToResourceAsync(First);
        Assert.Equal("notified 1", await TouchAsync(other, First));

        await leaving.DisposeAsync();

        await Eventually.GetAsync(() => TouchAsync(other, First), told => told == "notified 0", "the ended session's subscription to be let go");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(McpRevisions.Stateless)]
    public async Task A_sessions_subscription_outlives_a_restart_of_its_upstream(string? pinned)
    {
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("restarting", d => d with
        {
            ProtocolVersion = pinned,
            Timeout = UpstreamTimeout,
            AutoReconnect = true,
            ReconnectDelay = TimeSpan.FromMilliseconds(200),
        }));
        await _gateway.WaitConnectedAsync("restarting");
        await using var session = await SessionAsync("restarting");
        var heard = session.UpdatedUris();
        await session.SubscribeToResourceAsync(First);
        var before = _gateway.Upstream("restarting").Session;

        System.Diagnostics.Process.GetProcessById(int.Parse((await session.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
        await Eventually.GetAsync(() => Task.FromResult(_gateway.Upstream("restarting").Session), now => now is not null && now != before, "the upstream to be reconnected");

        // The new upstream process was never asked by the caller: the gateway subscribed it again.
        Assert.Equal("notified 1", await Eventually.GetAsync(() => TouchAsync(session, First), told => told == "notified 1", "the new upstream to hold the subscription"));
        Assert.Equal(First, await heard.NextAsync());
    }

    [Theory]
    [InlineData("session")]
    [InlineData("stateless-stdio")]
    [InlineData("stateless-http")]
    public async Task A_stateless_listener_and_a_session_hold_one_subscription_and_each_hears_the_update_in_its_own_revision(string server)
    {
        await using var listener = await _gateway.ConnectAsync($"{server}/stream");
        Assert.Equal(McpRevisions.Stateless, listener.NegotiatedProtocolVersion);
        await using var session = await SessionAsync(server);
        var (heardByListener, heardBySession) = (listener.Heard(), session.Heard());

        using var closing = new CancellationTokenSource();
        var listening = listener.ListenAsync(First, closing.Token);
        var ack = await heardByListener.NextAsync();
        Assert.Equal(NotificationMethods.SubscriptionsAcknowledgedNotification, ack.Method);
        Assert.Equal(First, ack.Params!["notifications"]!["resourceSubscriptions"]![0]!.GetValue<string>());
        await session.SubscribeToResourceAsync(First);

        Assert.Equal("notified 1", await TouchAsync(session, First));
        var toListener = await heardByListener.NextAsync();
        Assert.Equal(First, toListener.Params!["uri"]!.GetValue<string>());
        Assert.Equal(ack.Params["_meta"]![MetaKeys.SubscriptionId]!.ToJsonString(), toListener.Params["_meta"]![MetaKeys.SubscriptionId]!.ToJsonString());
        var toSession = await heardBySession.NextAsync();
        Assert.Equal(First, toSession.Params!["uri"]!.GetValue<string>());
        Assert.Null(toSession.Params["_meta"]?[MetaKeys.SubscriptionId]); // a 2025-11-25 session has no listen stream to name

        await closing.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
        Assert.Equal("notified 1", await TouchAsync(session, First));
        Assert.Equal(First, (await heardBySession.NextAsync()).Params!["uri"]!.GetValue<string>());

        await session.UnsubscribeFromResourceAsync(First);
        await Eventually.GetAsync(() => TouchAsync(session, First), told => told == "notified 0", "the upstream to let go of a resource no one holds");
    }

    private Task<McpClient> SessionAsync(string server) => _gateway.ConnectAsync($"{server}/stream", protocolVersion: ProxyHarness.SessionProtocol);

    private static async Task<string> TouchAsync(McpClient client, string uri) =>
        (await client.CallToolAsync("touch", new Dictionary<string, object?> { ["uri"] = uri })).Text();
}
