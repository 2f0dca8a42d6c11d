using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// A server of 2026-07-28 alone, unpinned: the test server run with <c>--refuse-initialize</c> answers the gateway's
/// 2025-11-25 <c>initialize</c> with an unsupported-version error, so the gateway finds it with <c>server/discover</c>
/// and calls it statelessly, for callers of both revisions.
/// </summary>
public sealed class DiscoverFallbackTests : IAsyncLifetime
{
    private const string Server = "modern";
    private const string Item = "test://items/1";

    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        // Generous: half of it bounds the server/discover probe, which a stdio child slow to start must not fail.
        await _gateway.Admin.RegisterAsync(TestServers.Stdio(Server, d => d with
        {
            Args = [.. d.Args!, "--refuse-initialize"],
            Timeout = TimeSpan.FromSeconds(60),
        }));
        await _gateway.WaitConnectedAsync(Server);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_server_that_refuses_initialize_is_found_with_server_discover_and_serves_callers_of_both_revisions()
    {
        var upstream = _gateway.Upstream(Server).Session!;
        Assert.Equal(McpRevisions.Stateless, upstream.Client.NegotiatedProtocolVersion);
        Assert.True(upstream.IsStateless);

        await using var stateless = await _gateway.ConnectAsync($"{Server}/stream");
        Assert.Equal("hello", (await stateless.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello" })).Text());

        await using var session = await _gateway.ConnectAsync($"{Server}/stream", protocolVersion: ProxyHarness.SessionProtocol);
        Assert.Equal("hi", (await session.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" })).Text());
        var heard = session.UpdatedUris();
        await session.SubscribeToResourceAsync(Item);
        Assert.Equal("notified 1", (await session.CallToolAsync("touch", new Dictionary<string, object?> { ["uri"] = Item })).Text());
        Assert.Equal(Item, await heard.NextAsync());
    }
}
