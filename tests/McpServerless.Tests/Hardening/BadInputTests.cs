using System.Net;
using System.Text;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Hardening;

/// <summary>Every hostile or broken request gets a 4xx (problem details or a JSON-RPC error), never a 500, and the gateway keeps serving.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("target"));
        await _gateway.WaitConnectedAsync("target");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string, string> ProxyBodies => new()
    {
        { "target/stream", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":" },
        { "target/stream", "not json at all" },
        { "target/stream", "[1, 2, 3]" },
        { "target/stream", "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\"}" },
        { "target/stream", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"initialize\"}" },
        { "target/stream", "{\"id\":{\"nested\":true},\"method\":5}" },
        { "target/stream", "null" },
        { "target/stream", "" },
        { "mcp", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":" },
        { "target/message?sessionId=does-not-exist", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}" },
    };

    [Theory]
    [MemberData(nameof(ProxyBodies))]
    public async Task Broken_json_rpc_on_proxy_endpoints_is_a_4xx(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        using var response = await _gateway.Http.SendAsync(request);
        Assert.InRange((int)response.StatusCode, 400, 499);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("bogus")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/json; charset=nonsense")]
    public async Task A_post_without_json_content_type_is_415(string? contentType)
    {
        using var legacy = await Sessions.RawMcp.LegacySession.OpenAsync(_gateway.Http, "target/sse");
        foreach (var path in new[] { "target/stream", "mcp", legacy.MessagePath })
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Sessions.RawMcp.Initialize));
            if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            using var response = await _gateway.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("target/stream")]
    [InlineData("mcp")]
    public async Task Invalid_utf8_in_a_body_is_a_json_rpc_parse_error(string path)
    {
        var body = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x"""u8.ToArray()
            .Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat("\",\"version\":\"1\"}}}"u8.ToArray()).ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(-32700, json.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task An_unknown_session_id_is_a_4xx()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "target/stream")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Add("Mcp-Session-Id", "no-such-session");
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        using var response = await _gateway.Http.SendAsync(request);
        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    [Theory]
    [InlineData("admin/mcps/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("admin/mcps/%2e%2e")]
    [InlineData("..%2Fadmin/mcps")]
    [InlineData("target%0d%0aX-Injected:%201/stream")]
    [InlineData("admin/mcps/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task Traversal_injection_and_long_names_are_4xx(string path)
    {
        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, path));
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.False(response.Headers.Contains("X-Injected"));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_ten_megabyte_admin_body_is_refused_and_others_keep_being_served()
    {
        using var content = new ByteArrayContent(new byte[10 * 1024 * 1024]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", content);
        try
        {
            using var response = await _gateway.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        catch (HttpRequestException ex) when (ex.InnerException is IOException)
        {
            // The gateway answered 413 from Content-Length and closed the connection while the client was still uploading.
        }
        await AssertStillServingAsync();
    }

    private async Task AssertStillServingAsync()
    {
        await using var client = await _gateway.ConnectAsync("target/stream");
        Assert.Equal("ok", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "ok" })).Text());
    }
}
