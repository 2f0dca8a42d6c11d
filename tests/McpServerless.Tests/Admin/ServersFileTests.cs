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
          },
          // the gateway's own: virtual servers in their admin API shape, named by their keys
          "virtualServers": {
            "team-a": {
              "description": "What team A may use",
              "tools": ["everything:echo", "remote:read_*"],
              "overrides": { "everything:echo": { "name": "say" } },
              "authTokens": ["team-a-token"]
            }
          }
        }
        """;

    [Fact]
    public void Parses_the_common_format_and_infers_transports()
    {
        var byName = McpServersFile.Parse(File).Servers.ToDictionary(d => d.Name);

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

    [Fact]
    public void Parses_virtual_servers_named_by_their_keys()
    {
        var team = Assert.Single(McpServersFile.Parse(File).VirtualServers);

        Assert.Equal("team-a", team.Name);
        Assert.Equal(["everything:echo", "remote:read_*"], team.Tools);
        Assert.Equal("say", team.Overrides!["everything:echo"].Name);
        Assert.Equal(["team-a-token"], team.AuthTokens);

        var alone = McpServersFile.Parse("""{"virtualServers": {"solo": {"name": "ignored", "tools": ["x:*"]}}}""");
        Assert.Empty(alone.Servers);
        Assert.Equal("solo", Assert.Single(alone.VirtualServers).Name);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"mcpServers": []}""")]
    [InlineData("""{"virtualServers": {"v": ["x:*"]}}""")]
    [InlineData("""{"virtualServers": {"v": {"tools": "x:*"}}}""")]
    [InlineData("""{"mcpServers": {"same": {"command": "c"}}, "virtualServers": {"same": {}}}""")]
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
            var team = Assert.Single(await gateway.Admin.ListVirtualServersAsync());
            Assert.Equal("team-a", team.Definition.Name);
            Assert.Equal(["***"], team.Definition.AuthTokens);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public async Task An_invalid_virtual_server_in_the_file_stops_the_start_naming_it()
    {
        var path = Path.GetTempFileName();
        await System.IO.File.WriteAllTextAsync(path, """{"virtualServers": {"broken": {"tools": ["no-colon"]}}}""");
        try
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHarness.StartAsync(o => o.ServersFile = path));
            Assert.Contains("virtual server 'broken'", ex.Message);
            Assert.Contains("tools", ex.Message);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
