using McpServerless.Model;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Proxy;

/// <summary>Peers nobody here wrote: npm's reference server upstream, the TypeScript SDK client downstream.</summary>
public sealed class ThirdPartyPeerTests
{
    [Fact]
    public async Task Server_everything_over_stdio_works_through_the_gateway()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.EverythingStdio("everything"));
        await gateway.WaitConnectedAsync("everything");

        await using var client = await gateway.ConnectAsync("everything/stream");
        var tools = await client.ListToolsAsync();
        Assert.Contains(tools, t => t.Name == "echo");
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello everything" });
        Assert.Contains("hello everything", result.Text());
        Assert.NotEmpty(await client.ListPromptsAsync());
        Assert.NotEmpty(await client.ListResourcesAsync());
    }

    [Fact]
    public async Task Server_everything_over_streamable_http_works_through_the_gateway()
    {
        var port = TestTools.FreeTcpPort();
        await using var server = ExternalProcess.Start("node",
            [TestTools.NodePackageFile("@modelcontextprotocol/server-everything", "dist/index.js"), "streamableHttp"],
            new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await server.WaitForPortAsync(port);

        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(new McpDefinition { Name = "everything-http", Transport = McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{port}/mcp" });
        await gateway.WaitConnectedAsync("everything-http");

        await using var client = await gateway.ConnectAsync("everything-http/stream");
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over http" });
        Assert.Contains("over http", result.Text());
    }

    [Theory]
    [InlineData("tools/stream", "streamable", "echo")]
    [InlineData("tools/sse", "sse", "echo")]
    [InlineData("mcp", "streamable", "tools__echo")]
    public async Task The_typescript_sdk_client_uses_the_gateway(string path, string mode, string expectedTool)
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("tools"));
        await gateway.WaitConnectedAsync("tools");

        using var seen = await TypeScriptClient.RunAsync(new Uri(gateway.Proxy.BaseAddress, path), mode);
        Assert.Equal("from typescript", seen.RootElement.GetProperty("echo").GetString());
        Assert.Contains(seen.RootElement.GetProperty("tools").EnumerateArray(), t => t.GetString() == expectedTool);
    }
}
