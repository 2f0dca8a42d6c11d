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
}
