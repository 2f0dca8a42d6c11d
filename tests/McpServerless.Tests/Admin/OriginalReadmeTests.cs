using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Proxy;

namespace McpServerless.Tests.Admin;

public sealed class OriginalReadmeTests
{
    /// <summary>The original Go README's TestProxyBasicFunctionality, in C#.</summary>
    [Fact]
    public async Task Proxy_basic_functionality()
    {
        await using var proxy = McpProxy.Create(new McpProxyOptions { Port = 0, Host = "127.0.0.1", AdminTokens = ["test-token"] });
        await proxy.StartAsync();
        Assert.NotEqual(0, proxy.BaseAddress.Port);

        await proxy.RegisterMcpAsync(new McpDefinition
        {
            Name = "test-server",
            Transport = McpTransport.Stdio,
            Command = "echo",
            Args = ["hello"],
        });

        var mcps = await proxy.ListMcpsAsync();
        var only = Assert.Single(mcps);
        Assert.Equal("test-server", only.Name);
        await proxy.StopAsync();
    }
}
