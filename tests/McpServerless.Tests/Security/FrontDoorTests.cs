using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using McpServerless.Configuration;
using McpServerless.Security;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Security;

/// <summary>
/// DNS rebinding: a page on evil.example.com whose name resolves to 127.0.0.1 reaches a loopback gateway from a
/// loopback peer, naming its own host in <c>Host</c> and, on a POST, in <c>Origin</c>.
/// </summary>
public sealed class FrontDoorTests
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    public static TheoryData<string> Rebindings => ["host", "origin", "both"];

    [Theory]
    [MemberData(nameof(Rebindings))]
    public async Task A_rebinding_page_cannot_register_a_server_on_the_default_gateway(string rebinding)
    {
        var scratch = Directory.CreateTempSubdirectory("mcpgw-rebinding-");
        var marker = Path.Combine(scratch.FullName, "started");
        // The default configuration: no admin tokens, so the admin API answers loopback clients only.
        await using var gateway = await GatewayHarness.StartAsync(o => o.AdminTokens = []);

        using (var attack = Rebound(gateway, rebinding, HttpMethod.Post, "admin/mcps", RegisterMarker("evil", marker)))
        using (var response = await gateway.Http.SendAsync(attack))
        {
            Assert.InRange((int)response.StatusCode, 400, 403);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(await gateway.Proxy.ListMcpsAsync());

        // The same request from the gateway's own page or a plain client is accepted and does start the command, so
        // the absence of the marker above is the refusal's doing.
        using (var own = new HttpRequestMessage(HttpMethod.Post, "admin/mcps") { Content = RegisterMarker("own", marker) })
        {
            own.Headers.Add("Origin", gateway.Proxy.BaseAddress.GetLeftPart(UriPartial.Authority));
            using var response = await gateway.Http.SendAsync(own);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        await Eventually.GetAsync(() => Task.FromResult(File.Exists(marker)), started => started, "the registered command to start");
        scratch.Delete(recursive: true);
    }

    [Theory]
    [MemberData(nameof(Rebindings))]
    public async Task Rebinding_requests_are_refused_on_every_mcp_endpoint(string rebinding)
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("local"));
        await gateway.WaitConnectedAsync("local");

        foreach (var (method, path) in new[] { (HttpMethod.Post, "mcp"), (HttpMethod.Post, "local/stream"), (HttpMethod.Get, "local/sse"), (HttpMethod.Get, "healthz") })
        {
            using var request = Rebound(gateway, rebinding, method, path, method == HttpMethod.Post ? Json(Initialize) : null);
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True((int)response.StatusCode is 400 or 403, $"{rebinding} rebinding on {path} got {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.False(response.Headers.Contains("Mcp-Session-Id"));
        }

        // A client naming the gateway by a loopback host, with its own origin or none, is served.
        await using var client = await gateway.ConnectAsync("local/stream", protocolVersion: ProxyHarness.SessionProtocol);
        Assert.Contains(await client.ListToolsAsync(), t => t.Name == "echo");
        using var own = new HttpRequestMessage(HttpMethod.Post, "mcp") { Content = Json(Initialize) };
        own.Headers.Accept.ParseAdd("application/json, text/event-stream");
        own.Headers.Host = $"localhost:{gateway.Proxy.BaseAddress.Port}";
        own.Headers.Add("Origin", $"http://localhost:{gateway.Proxy.BaseAddress.Port}");
        using var ownResponse = await gateway.Http.SendAsync(own, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, ownResponse.StatusCode);
    }

    [Fact]
    public async Task Opening_hosts_with_a_wildcard_does_not_open_the_tokenless_admin_api_to_other_hosts()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => { o.AdminTokens = []; o.AllowedHosts = ["*"]; });
        using (var attack = Rebound(gateway, "host", HttpMethod.Get, "admin/mcps", null))
        using (var response = await gateway.Http.SendAsync(attack))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using (var response = await gateway.Http.GetAsync("admin/mcps"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_page_on_another_local_port_is_a_foreign_origin()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        using var request = gateway.AdminRequest(HttpMethod.Get, "admin/mcps");
        request.Headers.Add("Origin", "http://127.0.0.1:1");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_listed_origin_gets_cors_and_can_open_a_session()
    {
        const string inspector = "http://inspector.test:6274";
        await using var gateway = await GatewayHarness.StartAsync(o => o.AllowedOrigins = [inspector]);

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, "mcp"))
        {
            preflight.Headers.Add("Origin", inspector);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type,mcp-session-id,mcp-protocol-version,authorization");
            using var response = await gateway.Http.SendAsync(preflight);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal(inspector, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            var allowed = string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers"));
            Assert.Contains("mcp-session-id", allowed, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("mcp-protocol-version", allowed, StringComparison.OrdinalIgnoreCase);
        }

        using (var initialize = new HttpRequestMessage(HttpMethod.Post, "mcp") { Content = Json(Initialize) })
        {
            initialize.Headers.Add("Origin", inspector);
            initialize.Headers.Accept.ParseAdd("application/json, text/event-stream");
            using var response = await gateway.Http.SendAsync(initialize, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.Contains("Mcp-Session-Id"));
            Assert.Contains("Mcp-Session-Id", string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.OrdinalIgnoreCase);
        }

        using (var foreign = new HttpRequestMessage(HttpMethod.Options, "mcp"))
        {
            foreign.Headers.Add("Origin", "http://other.test:6274");
            foreign.Headers.Add("Access-Control-Request-Method", "POST");
            using var response = await gateway.Http.SendAsync(foreign);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task The_functions_admin_api_refuses_a_foreign_origin()
    {
        await using var functions = await FunctionsHarness.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/mcps") { Content = RegisterMarker("evil", "/nonexistent/marker") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", IAdminTestHost.AdminToken);
        request.Headers.Add("Origin", "http://evil.example.com");
        using var response = await functions.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(await functions.GetStoredAsync("evil"));
    }

    [Fact]
    public void Defaults_follow_the_listen_address()
    {
        var loopback = Policy(new McpProxyOptions { Host = "127.0.0.1", BaseUrl = "https://gw.example.com/base" });
        Assert.Equal(["localhost", "127.0.0.1", "[::1]", "gw.example.com"], loopback.AllowedHosts);
        Assert.False(loopback.HostsUnrestrictedByDefault);

        var everywhere = Policy(new McpProxyOptions { Host = "0.0.0.0" });
        Assert.Equal(["*"], everywhere.AllowedHosts);
        Assert.True(everywhere.HostsUnrestrictedByDefault);
        Assert.True(everywhere.IsTrustedHost("localhost:8081"));
        Assert.False(everywhere.IsTrustedHost("evil.example.com"));

        var listed = Policy(new McpProxyOptions { Host = "0.0.0.0", AllowedHosts = ["*.corp.example", "gw.example.com"] });
        Assert.False(listed.HostsUnrestrictedByDefault);
        Assert.True(listed.IsTrustedHost("a.corp.example:443"));
        Assert.False(listed.IsTrustedHost("corp.example"));
        Assert.True(listed.IsTrustedHost("localhost"));
        Assert.Equal(["*.corp.example", "gw.example.com"], listed.AllowedHosts);
    }

    [Theory]
    [InlineData("AllowedHosts", "gw.example.com:8080")]
    [InlineData("AllowedHosts", "http://gw.example.com")]
    [InlineData("AllowedOrigins", "http://inspector.test/path")]
    [InlineData("AllowedOrigins", "*")]
    [InlineData("AllowedOrigins", "null")]
    public void Bad_host_and_origin_settings_stop_the_start(string setting, string value)
    {
        var options = new McpProxyOptions();
        (setting == "AllowedHosts" ? options.AllowedHosts : options.AllowedOrigins).Add(value);
        var result = new McpProxyOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains($"McpProxy:{setting}:0", result.FailureMessage, StringComparison.Ordinal);
    }

    private static FrontDoorPolicy Policy(McpProxyOptions options) => new(Options.Create(options));

    /// <summary>The request a rebinding page makes: its own host in <c>Host</c>, <c>Origin</c>, or both.</summary>
    private static HttpRequestMessage Rebound(GatewayHarness gateway, string rebinding, HttpMethod method, string path, HttpContent? content)
    {
        var evil = $"evil.example.com:{gateway.Proxy.BaseAddress.Port}";
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (rebinding is "host" or "both") request.Headers.Host = evil;
        if (rebinding is "origin" or "both") request.Headers.Add("Origin", $"http://{evil}");
        return request;
    }

    /// <summary>A stdio server whose command leaves a file behind when the gateway starts it.</summary>
    private static StringContent RegisterMarker(string name, string marker) => Json(JsonSerializer.Serialize(new
    {
        name,
        transport = "stdio",
        command = "/bin/sh",
        args = new[] { "-c", $"touch '{marker}'; exec sleep 30" },
        timeout = "2s",
    }));

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
