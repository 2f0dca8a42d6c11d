using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Proxy;

/// <summary>
/// Relayed results in each revision's wire format: 2025-11-25 sessions get the upstream's JSON as it came, 2026-07-28
/// requests get <c>resultType</c> and, on list and read results, caching hints the gateway can stand behind.
/// </summary>
public sealed class RevisionShapingTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("open", d => d with { ToolsCacheTtl = TimeSpan.FromSeconds(5) }));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("guarded", d => d with { AuthTokens = ["guard-token"] }));
        await _gateway.WaitConnectedAsync("open");
        await _gateway.WaitConnectedAsync("guarded");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Session_clients_get_the_upstream_json_without_the_newer_fields()
    {
        await using var client = await _gateway.ConnectAsync("open/stream", protocolVersion: ProxyHarness.SessionProtocol);

        foreach (var (method, parameters) in Requests())
        {
            var result = await ResultAsync(client, method, parameters);
            Assert.False(result.ContainsKey("resultType"), $"{method} has resultType");
            Assert.False(result.ContainsKey("ttlMs"), $"{method} has ttlMs");
            Assert.False(result.ContainsKey("cacheScope"), $"{method} has cacheScope");
        }
    }

    [Fact]
    public async Task Stateless_clients_get_result_type_and_caching_hints()
    {
        await using var client = await _gateway.ConnectAsync("open/stream");

        foreach (var (method, parameters) in Requests())
            Assert.Equal("complete", (await ResultAsync(client, method, parameters))["resultType"]?.GetValue<string>());

        // The tool list is the gateway's own, kept current by list_changed: the server's toolsCacheTtl, public on an open server.
        var tools = await ResultAsync(client, RequestMethods.ToolsList, null);
        Assert.Equal(5000, tools["ttlMs"]?.GetValue<long>());
        Assert.Equal("public", tools["cacheScope"]?.GetValue<string>());

        // Relayed lists carry no hint from this upstream: stale at once.
        var resources = await ResultAsync(client, RequestMethods.ResourcesList, null);
        Assert.Equal(0, resources["ttlMs"]?.GetValue<long>());
        Assert.Equal("private", resources["cacheScope"]?.GetValue<string>());

        var call = await ResultAsync(client, RequestMethods.ToolsCall, new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "hi" } });
        Assert.False(call.ContainsKey("ttlMs"));
    }

    [Fact]
    public async Task A_protected_server_never_calls_its_answers_public()
    {
        await using var client = await _gateway.ConnectAsync("guarded/stream", token: "guard-token");

        var tools = await ResultAsync(client, RequestMethods.ToolsList, null);
        Assert.Equal("private", tools["cacheScope"]?.GetValue<string>());
        Assert.Equal(60_000, tools["ttlMs"]?.GetValue<long>()); // the default toolsCacheTtl
    }

    [Fact]
    public async Task A_repeated_stateless_tool_list_does_not_change_the_shared_one()
    {
        await using var stateless = await _gateway.ConnectAsync("open/stream");
        await ResultAsync(stateless, RequestMethods.ToolsList, null);
        await ResultAsync(stateless, RequestMethods.ToolsList, null);

        await using var session = await _gateway.ConnectAsync("open/stream", protocolVersion: ProxyHarness.SessionProtocol);
        Assert.False((await ResultAsync(session, RequestMethods.ToolsList, null)).ContainsKey("ttlMs"));
    }

    [Fact]
    public async Task A_tool_list_served_before_list_changed_is_not_served_after_it()
    {
        await using var session = await _gateway.ConnectAsync("open/stream", protocolVersion: ProxyHarness.SessionProtocol);
        await using var stateless = await _gateway.ConnectAsync("open/stream");
        Assert.DoesNotContain(await session.ListToolsAsync(), t => t.Name == "late_tool");
        Assert.DoesNotContain(await stateless.ListToolsAsync(), t => t.Name == "late_tool");

        await session.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "late_tool" });

        await Eventually.GetAsync(async () => await session.ListToolsAsync(), t => t.Any(x => x.Name == "late_tool"), "the session to list the new tool", TimeSpan.FromSeconds(10));
        await Eventually.GetAsync(async () => await stateless.ListToolsAsync(), t => t.Any(x => x.Name == "late_tool"), "a stateless client to list the new tool", TimeSpan.FromSeconds(10));
    }

    private static IEnumerable<(string Method, JsonObject? Params)> Requests() =>
    [
        (RequestMethods.ToolsList, null),
        (RequestMethods.ToolsCall, new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "hi" } }),
        (RequestMethods.ResourcesList, null),
        (RequestMethods.ResourcesRead, new JsonObject { ["uri"] = "test://static" }),
        (RequestMethods.PromptsList, null),
    ];

    private static async Task<JsonObject> ResultAsync(McpClient client, string method, JsonObject? parameters) =>
        (await client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters })).Result!.AsObject();
}
