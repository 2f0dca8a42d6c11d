using McpServerless.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Proxy;

public sealed class AggregateEndpointTests
{
    [Theory]
    [InlineData("mcp", HttpTransportMode.StreamableHttp)]
    [InlineData("sse", HttpTransportMode.Sse)]
    public async Task One_session_sees_and_calls_every_server_under_prefixed_names(string path, HttpTransportMode mode)
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("alpha"));
        await gateway.Admin.RegisterAsync(TestServers.Stdio("beta", d => d with { ToolFilter = new() { Allow = ["echo", "whoami"] } }));
        await gateway.WaitConnectedAsync("alpha");
        await gateway.WaitConnectedAsync("beta");

        await using var client = await gateway.ConnectAsync(path, mode);
        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToHashSet();

        Assert.Contains("alpha__echo", names);
        Assert.Contains("alpha__sleep", names);
        Assert.Contains("beta__echo", names);
        Assert.DoesNotContain("beta__sleep", names);

        var alphaPid = (await client.CallToolAsync("alpha__whoami")).Text();
        var betaPid = (await client.CallToolAsync("beta__whoami")).Text();
        Assert.NotEqual(alphaPid, betaPid);
        Assert.Equal("routed", (await client.CallToolAsync("beta__echo", new Dictionary<string, object?> { ["message"] = "routed" })).Text());

        var filtered = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("beta__sleep", new Dictionary<string, object?> { ["milliseconds"] = 1 }).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, filtered.ErrorCode);

        Assert.Contains(await client.ListPromptsAsync(), p => p.Name == "alpha__greeting");
        Assert.Contains(await client.ListResourcesAsync(), r => r.Uri == "test://static");
        Assert.Equal("static content", ((ModelContextProtocol.Protocol.TextResourceContents)(await client.ReadResourceAsync("test://static")).Contents[0]).Text);
    }

    [Fact]
    public async Task Servers_a_caller_may_not_use_are_invisible()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("public"));
        await gateway.Admin.RegisterAsync(TestServers.Stdio("secret", d => d with { AuthTokens = ["secret-token"] }));
        await gateway.WaitConnectedAsync("public");
        await gateway.WaitConnectedAsync("secret");

        await using var anonymous = await gateway.ConnectAsync("mcp");
        var names = (await anonymous.ListToolsAsync()).Select(t => t.Name).ToList();
        Assert.Contains("public__echo", names);
        Assert.DoesNotContain(names, n => n.StartsWith("secret__", StringComparison.Ordinal));
        await Assert.ThrowsAsync<McpProtocolException>(() => anonymous.CallToolAsync("secret__echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask());

        await using var trusted = await gateway.ConnectAsync("mcp", token: "secret-token");
        Assert.Contains(await trusted.ListToolsAsync(), t => t.Name == "secret__echo");
    }
}
