using McpServerless.Audit;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Audit;

/// <summary>
/// Every relayed <c>tools/call</c>, <c>prompts/get</c> and <c>resources/read</c> leaves an entry, read back through
/// <c>GET /admin/audit</c>, with the outcome the caller saw and no argument value unless the operator asks for them.
/// </summary>
public sealed class RelayAuditTests
{
    private const string Secret = "hunter2-not-for-the-log";

    [Fact]
    public async Task Calls_on_a_server_route_and_on_the_aggregate_leave_an_entry_each_without_argument_values()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.GlobalAuthTokens = ["agent-token"]);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("files"));
        await gateway.WaitConnectedAsync("files");
        await using (var direct = await gateway.ConnectAsync("files/stream", token: "agent-token", protocolVersion: ProxyHarness.SessionProtocol))
        {
            await direct.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = Secret });
            await direct.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = Secret });
            await direct.ReadResourceAsync("test://static");
        }
        await using (var aggregated = await gateway.ConnectAsync("mcp", token: "agent-token", protocolVersion: ProxyHarness.SessionProtocol))
            await aggregated.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = Secret });

        var entries = await CallsAsync(gateway, "files", 4);
        Assert.Equal(
            [("aggregated", "tools/call", "echo"), ("server", "resources/read", "test://static"), ("server", "prompts/get", "greeting"), ("server", "tools/call", "echo")],
            entries.Select(e => (e.Route, e.Method, e.Tool!)));
        Assert.All(entries, e =>
        {
            Assert.Equal(AuditOutcomes.Ok, e.Outcome);
            Assert.Equal("files", e.Server);
            Assert.Equal(McpServerless.Security.TokenSet.Fingerprint("agent-token"), e.Caller.Token);
            Assert.Equal("127.0.0.1", e.Caller.Ip);
            Assert.InRange(e.RequestBytes, 10, 4096);
            Assert.InRange(e.ResponseBytes, 10, 4096);
            Assert.Null(e.Arguments);
        });

        using var raw = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "admin/audit"));
        Assert.DoesNotContain(Secret, await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Calls_through_a_virtual_server_are_audited_on_its_route_under_the_real_server_and_tool()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("files"));
        await gateway.WaitConnectedAsync("files");
        await gateway.Admin.RegisterVirtualServerAsync(new VirtualServerDefinition
        {
            Name = "team",
            Tools = ["files:echo"],
            Overrides = new Dictionary<string, MemberOverride> { ["files:echo"] = new() { Name = "say" } },
        });
        await Eventually.GetAsync(() => Task.FromResult(gateway.Proxy.Services.GetRequiredService<VirtualServerCatalog>().TryGet("team", out _)),
            served => served, "the catalog to serve the virtual server");
        await using (var client = await gateway.ConnectAsync("team/stream", protocolVersion: ProxyHarness.SessionProtocol))
        {
            await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "hi" });
            await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("echo").AsTask()); // not a member under that name
        }

        var entries = await CallsAsync(gateway, server: null, 2);
        Assert.Equal(
            [("virtual:team", null, "echo", "-32602"), ("virtual:team", "files", "echo", AuditOutcomes.Ok)],
            entries.Select(e => (e.Route, e.Server, e.Tool, e.Outcome)));
    }

    [Fact]
    public async Task A_tool_error_an_upstream_error_a_filtered_tool_and_a_timeout_are_outcomes()
    {
        var (upstream, port) = await TestServers.StartHttpAsync();
        await using var _ = upstream;
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(new()
        {
            Name = "strict",
            Transport = McpServerless.Model.McpTransport.StreamableHttp,
            Url = $"http://127.0.0.1:{port}/mcp",
            Timeout = TimeSpan.FromSeconds(5), // also the connect's: shorter ones fail to connect on a loaded machine
            ToolFilter = new() { Deny = ["read_secret"] },
        });
        await gateway.WaitConnectedAsync("strict");
        await using var client = await gateway.ConnectAsync("strict/stream", protocolVersion: ProxyHarness.SessionProtocol);

        Assert.True((await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "no" })).IsError);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("no_such_tool").AsTask());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("read_secret").AsTask());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 30_000 }).AsTask());

        var entries = await CallsAsync(gateway, "strict", 4);
        Assert.Equal(
            [("sleep", "timeout"), ("read_secret", "refused"), ("no_such_tool", "-32602"), ("fail", "tool_error")],
            entries.Select(e => (e.Tool!, e.Outcome)));
        Assert.InRange(entries[0].DurationMs, 4_900, 25_000);
    }

    [Fact]
    public async Task With_IncludeArguments_the_arguments_are_kept_with_secrets_masked()
    {
        await using var gateway = await GatewayHarness.StartAsync(configureBuilder: b => b.Configuration["McpProxy:Audit:IncludeArguments"] = "true");
        await gateway.Admin.RegisterAsync(TestServers.Stdio("kept"));
        await gateway.WaitConnectedAsync("kept");
        await using var client = await gateway.ConnectAsync("kept/stream", protocolVersion: ProxyHarness.SessionProtocol);

        await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 });
        await client.CallToolAsync("env", new Dictionary<string, object?> { ["name"] = "Bearer abc.def" });

        var entries = await CallsAsync(gateway, "kept", 2);
        Assert.Equal("""{"name":"***"}""", entries[0].Arguments?.GetRawText());
        Assert.Equal("""{"a":2,"b":3}""", entries[1].Arguments?.GetRawText());
    }

    // The server's registration through the admin API has its own entry (mcps/create); these are the calls, newest
    // arrival first: an entry is written once its answer is sent, so the next call's may be written before it.
    private static async Task<AuditEntry[]> CallsAsync(GatewayHarness gateway, string? server, int count) =>
        await Eventually.GetAsync(
            async () => (await gateway.Admin.GetAuditAsync(new AuditQuery { Server = server })).Entries
                .Where(e => e.Route != AuditRoutes.Admin).OrderByDescending(e => e.Time).ToArray(),
            e => e.Length == count, $"{count} call entries");
}
