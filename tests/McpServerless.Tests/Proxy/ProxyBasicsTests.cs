using McpServerless.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Proxy;

public sealed class ProxyBasicsTests
{
    [Theory]
    [InlineData("tools/stream", HttpTransportMode.StreamableHttp)]
    [InlineData("tools/sse", HttpTransportMode.Sse)]
    public async Task A_stdio_server_is_usable_through_its_endpoints(string path, HttpTransportMode mode)
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("tools"));
        await gateway.WaitConnectedAsync("tools");

        await using var client = await gateway.ConnectAsync(path, mode);
        Assert.Equal("test-mcp-server", client.ServerInfo?.Name);
        var tools = await client.ListToolsAsync();
        Assert.Contains(tools, t => t.Name == "echo");

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi there" });
        Assert.Equal("hi there", result.Text());
    }

    [Theory]
    [InlineData(null, "/tools/message?sessionId=")]
    [InlineData("https://gateway.example/prefix/", "/prefix/tools/message?sessionId=")]
    public async Task The_sse_endpoint_event_points_under_the_server_and_the_base_url(string? baseUrl, string expectedStart)
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.BaseUrl = baseUrl);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("tools"));
        await gateway.WaitConnectedAsync("tools");

        using var response = await gateway.Http.GetAsync("tools/sse", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        do line = await reader.ReadLineAsync();
        while (line is not null && !line.StartsWith("data:", StringComparison.Ordinal));

        Assert.StartsWith(expectedStart, line?["data:".Length..].Trim());

        // Both the prefixed path (a front proxy that forwards it) and the bare one reach the server.
        using var prefixed = await gateway.Http.GetAsync(baseUrl is null ? "healthz" : "prefix/healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, prefixed.StatusCode);
    }
}
