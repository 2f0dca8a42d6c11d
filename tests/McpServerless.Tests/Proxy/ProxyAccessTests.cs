using System.Net;
using System.Net.Http.Headers;
using System.Text;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Proxy;

/// <summary>Refusals happen before any upstream work, as problem details.</summary>
public sealed class ProxyAccessTests
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    [Fact]
    public async Task Unknown_server_is_404()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        using var response = await PostAsync(gateway, "nobody/stream", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Per_server_tokens_and_global_tokens_are_enforced()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.GlobalAuthTokens = ["global-token"]);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("locked", d => d with { AuthTokens = ["own-token"] }));
        await gateway.WaitConnectedAsync("locked");

        using (var none = await PostAsync(gateway, "locked/stream", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        }
        using (var wrong = await PostAsync(gateway, "locked/stream", "nope"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        await using var own = await gateway.ConnectAsync("locked/stream", token: "own-token");
        Assert.Contains(await own.ListToolsAsync(), t => t.Name == "echo");
        await using var global = await gateway.ConnectAsync("locked/stream", token: "global-token");
        Assert.Contains(await global.ListToolsAsync(), t => t.Name == "echo");

        using (var aggregate = await PostAsync(gateway, "mcp", null))
            Assert.Equal(HttpStatusCode.Unauthorized, aggregate.StatusCode);
    }

    [Fact]
    public async Task Allowed_ips_keep_other_addresses_out()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("private", d => d with { AllowedIps = ["10.0.0.0/8"] }));
        using var response = await PostAsync(gateway, "private/stream", null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_server_that_cannot_connect_is_503_within_its_timeout()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(Definitions.Http("down", $"http://127.0.0.1:{TestTools.FreeTcpPort()}/mcp") with { Timeout = TimeSpan.FromSeconds(1) });
        using var response = await PostAsync(gateway, "down/stream", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<HttpResponseMessage> PostAsync(GatewayHarness gateway, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(Initialize, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await gateway.Http.SendAsync(request);
    }
}
