using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Admin;

public sealed class ServersFileTests
{
    private const string File = """
        {
          // the format Claude Desktop, Cursor and VS Code use
          "mcpServers": {
            "everything": { "command": "npx", "args": ["-y", "server-everything"], "env": { "TOKEN": "s3cret" } },
            "remote": { "url": "https://example.test/mcp", "headers": { "X-Key": "k" } },
            "legacy": { "url": "https://example.test/sse" },
            "typed": { "type": "sse", "url": "https://example.test/events", "autoReconnect": false, "timeout": "5s" }
          }
        }
        """;

    [Fact]
    public void Parses_the_common_format_and_infers_transports()
    {
        var byName = McpServersFile.Parse(File).ToDictionary(d => d.Name);

        Assert.Equal(McpTransport.Stdio, byName["everything"].Transport);
        Assert.Equal(["-y", "server-everything"], byName["everything"].Args);
        Assert.Equal("s3cret", byName["everything"].Env!["TOKEN"]);
        Assert.Equal(McpTransport.StreamableHttp, byName["remote"].Transport);
        Assert.Equal(McpTransport.Sse, byName["legacy"].Transport);
        Assert.Equal(McpTransport.Sse, byName["typed"].Transport);
        Assert.True(byName["remote"].AutoReconnect);
        Assert.False(byName["typed"].AutoReconnect);
        Assert.Equal(TimeSpan.FromSeconds(5), byName["typed"].Timeout);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"mcpServers": {"x": 5}}""")]
    [InlineData("""{"mcpServers": {"x": {"description": "neither command nor url"}}}""")]
    [InlineData("""{"mcpServers": {"x": {"type": "carrier-pigeon", "url": "http://a"}}}""")]
    [InlineData("not json")]
    public void Rejects_malformed_files_with_a_message(string json) =>
        Assert.Throws<FormatException>(() => McpServersFile.Parse(json));

    [Fact]
    public async Task Preloaded_servers_show_up_in_the_admin_list()
    {
        var path = Path.GetTempFileName();
        await System.IO.File.WriteAllTextAsync(path, File);
        try
        {
            await using var gateway = await GatewayHarness.StartAsync(o => o.ServersFile = path);
            var names = (await gateway.Admin.ListAsync()).Select(e => e.Definition.Name);
            Assert.Equal(["everything", "legacy", "remote", "typed"], names);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
