using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpServerless.Tests.Sessions;

/// <summary>
/// A session id is not a key to the gateway: it works only on the route that opened it (server, aggregate, legacy
/// SSE), for the caller that opened it (same token, same address), while that caller still passes the route's checks.
/// Anything else is the same 404 an unknown id gets.
/// </summary>
public sealed class SessionBindingTests : IAsyncLifetime
{
    private readonly LogCapture _logs = new();
    private GatewayHarness _gateway = null!;

    private HttpClient Http => _gateway.Http;

    public async Task InitializeAsync()
    {
        // Loopback is a trusted proxy here, so X-Forwarded-For can stand for callers at other addresses.
        _gateway = await GatewayHarness.StartAsync(o => o.TrustedProxies = ["127.0.0.1"],
            configureBuilder: b => b.Logging.AddProvider(_logs).AddFilter<LogCapture>(null, LogLevel.Trace));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("a", d => d with { AuthTokens = ["token-a"] }));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("b", d => d with { AuthTokens = ["token-b"] }));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("open", d => d with { AllowedIps = ["10.0.0.0/8", "127.0.0.0/8"] }));
        foreach (var name in new[] { "a", "b", "open" }) await _gateway.WaitConnectedAsync(name);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_session_id_is_refused_on_every_other_route_and_token_like_an_unknown_one()
    {
        var id = await RawMcp.InitializeAsync(Http, "a/stream", "token-a");
        var unknown = await RawMcp.SendAsync(Http, "a/stream", "no-such-session", "token-a");
        Assert.Equal(404, unknown.Status);

        Assert.Equal(200, (await RawMcp.SendAsync(Http, "a/stream", id, "token-a")).Status);
        Assert.Equal(200, (await RawMcp.SendAsync(Http, "a", id, "token-a")).Status); // the same server's alias
        foreach (var (path, token) in new[] { ("open/stream", null), ("b/stream", "token-b"), ("mcp", null), ("open/stream", "token-a") })
        {
            var refused = await RawMcp.SendAsync(Http, path, id, token);
            Assert.Equal(unknown.Status, refused.Status);
            Assert.Equal(Detail(unknown.Body), Detail(refused.Body));
        }
        Assert.Equal(unknown.Status, (await RawMcp.SendAsync(Http, $"a/message?sessionId={id}", id, "token-a")).Status);

        var aggregate = await RawMcp.InitializeAsync(Http, "mcp");
        Assert.Equal(200, (await RawMcp.SendAsync(Http, "mcp", aggregate)).Status);
        Assert.Equal(unknown.Status, (await RawMcp.SendAsync(Http, "open/stream", aggregate)).Status);
        Assert.Equal(unknown.Status, (await RawMcp.SendAsync(Http, "mcp", aggregate, "token-a")).Status);
    }

    [Fact]
    public async Task A_session_is_refused_from_another_address_and_once_its_address_is_no_longer_allowed()
    {
        var id = await RawMcp.InitializeAsync(Http, "open/stream", forwardedFor: "10.1.1.1");
        Assert.Equal(200, (await RawMcp.SendAsync(Http, "open/stream", id, forwardedFor: "10.1.1.1")).Status);
        Assert.Equal(404, (await RawMcp.SendAsync(Http, "open/stream", id, forwardedFor: "10.1.1.2")).Status);
        Assert.Equal(404, (await RawMcp.SendAsync(Http, "open/stream", id)).Status);

        await _gateway.Admin.UpdateAsync("open", TestServers.Stdio("open", d => d with { AllowedIps = ["127.0.0.0/8"] }));
        await Eventually.GetAsync(async () => (await RawMcp.SendAsync(Http, "open/stream", id, forwardedFor: "10.1.1.1")).Status,
            status => status == 403, "the narrowed allow-list to refuse the session's address");
    }

    [Fact]
    public async Task A_revoked_token_is_refused_at_once_on_its_sessions()
    {
        var id = await RawMcp.InitializeAsync(Http, "a/stream", "token-a");

        await _gateway.Admin.UpdateAsync("a", TestServers.Stdio("a", d => d with { AuthTokens = ["token-a2"] }));

        await Eventually.GetAsync(async () => (await RawMcp.SendAsync(Http, "a/stream", id, "token-a")).Status,
            status => status == 401, "the revoked token to be refused");
        Assert.Equal(404, (await RawMcp.SendAsync(Http, "a/stream", id, "token-a2")).Status);
    }

    [Fact]
    public async Task Only_the_owner_can_delete_a_session()
    {
        var id = await RawMcp.InitializeAsync(Http, "a/stream", "token-a");

        foreach (var (path, token) in new[] { ("open/stream", null), ("b/stream", "token-b"), ("mcp", null) })
        {
            using var refused = await Http.SendAsync(RawMcp.With(new HttpRequestMessage(HttpMethod.Delete, path), id, token));
            Assert.Equal(404, (int)refused.StatusCode);
        }
        Assert.Equal(200, (await RawMcp.SendAsync(Http, "a/stream", id, "token-a")).Status);

        using (var deleted = await Http.SendAsync(RawMcp.With(new HttpRequestMessage(HttpMethod.Delete, "a/stream"), id, "token-a")))
            Assert.True(deleted.IsSuccessStatusCode);
        await Eventually.GetAsync(async () => (await RawMcp.SendAsync(Http, "a/stream", id, "token-a")).Status, s => s == 404, "the deleted session to be gone");
    }

    [Fact]
    public async Task Legacy_sse_session_ids_are_bound_to_their_route_and_caller()
    {
        using var session = await RawMcp.LegacySession.OpenAsync(Http, "a/sse", "token-a");
        Assert.StartsWith("a/message?sessionId=", session.MessagePath);

        foreach (var (path, token) in new[] { ($"b/message?sessionId={session.SessionId}", "token-b"), ($"open/message?sessionId={session.SessionId}", null), ($"message?sessionId={session.SessionId}", null) })
        {
            using var refused = await Http.SendAsync(RawMcp.Post(path, RawMcp.Initialize, token: token));
            Assert.Equal(404, (int)refused.StatusCode);
        }
        using (var streamable = await Http.SendAsync(RawMcp.Post("a/stream", RawMcp.ListTools, session.SessionId, "token-a")))
            Assert.Equal(404, (int)streamable.StatusCode);

        using var accepted = await Http.SendAsync(RawMcp.Post(session.MessagePath, RawMcp.Initialize, token: "token-a"));
        Assert.Equal(202, (int)accepted.StatusCode);
    }

    [Fact]
    public async Task Session_ids_never_appear_in_the_log()
    {
        await using (var client = await _gateway.ConnectAsync("a/stream", token: "token-a", protocolVersion: ProxyHarness.SessionProtocol))
        {
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" });
            var id = client.SessionId!;
            await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "boom" });
            Assert.DoesNotContain(_logs.Lines, line => line.Contains(id, StringComparison.Ordinal));
            Assert.Contains(_logs.Lines, line => line.Contains("Relaying tools/call", StringComparison.Ordinal));
        }
    }

    private static string? Detail(string problem)
    {
        using var json = System.Text.Json.JsonDocument.Parse(problem);
        return json.RootElement.GetProperty("detail").GetString();
    }
}
