using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.VirtualServers;

/// <summary>
/// <c>/{virtual}/stream</c> and <c>/{virtual}/sse</c> end to end: two real upstreams (npm's server-everything and the
/// project's test server), a virtual server with two tools of each (one renamed), driven by the C# and TypeScript SDKs.
/// </summary>
public sealed class VirtualServerEndpointTests : IAsyncLifetime
{
    private const string TeamToken = "team-token";

    private GatewayHarness _gateway = null!;

    // The test server keeps its own token and filters read_secret out: the virtual server's rules stand in for the
    // first, and a selector cannot get past the second.
    private static readonly VirtualServerDefinition Team = new()
    {
        Name = "team",
        Description = "What team A's agents may use",
        Tools = ["everything:echo", "everything:get-sum", "tools:add", "tools:progress", "tools:read_*", "tools:dyn_*"],
        Prompts = ["tools:greeting"],
        Resources = ["tools:test://static"],
        Overrides = new Dictionary<string, MemberOverride> { ["everything:echo"] = new() { Name = "say", Description = "Repeats the message back" } },
        AuthTokens = [TeamToken],
    };

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.EverythingStdio("everything"));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("tools", d => d with { AuthTokens = ["tools-token"], ToolFilter = new ToolFilter { Deny = ["read_secret"] } }));
        await _gateway.WaitConnectedAsync("everything");
        await _gateway.WaitConnectedAsync("tools");
        await _gateway.Admin.RegisterVirtualServerAsync(Team);
        await WaitServedAsync(_gateway, p => p is not null);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("team/stream", HttpTransportMode.StreamableHttp)]
    [InlineData("team/sse", HttpTransportMode.Sse)]
    public async Task The_members_are_listed_under_their_exposed_names_and_called_on_their_servers(string path, HttpTransportMode mode)
    {
        await using var client = await _gateway.ConnectAsync(path, mode, TeamToken);

        var tools = await client.ListToolsAsync();
        Assert.Equal(["say", "get-sum", "add", "progress"], tools.Select(t => t.Name));
        Assert.Equal("Repeats the message back", tools[0].Description);
        Assert.Equal("Adds two integers.", tools[2].Description);
        Assert.Equal("team", client.ServerInfo?.Name);
        Assert.Equal("What team A's agents may use", client.ServerInstructions);

        Assert.Equal("Echo: hello", (await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "hello" })).Text());
        Assert.Equal("The sum of 2 and 3 is 5.", (await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })).Text());
        Assert.Equal("5", (await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })).Text());

        var progress = new ProgressRecorder(client);
        Assert.Equal("done 3", (await client.CallToolAsync("progress", new Dictionary<string, object?> { ["steps"] = 3 }, new Progress<ProgressNotificationValue>())).Text());
        Assert.Equal([1f, 2f, 3f], Assert.Single((await progress.WaitForAsync(3)).Values).Order());

        var prompt = Assert.Single(await client.ListPromptsAsync());
        Assert.Equal("greeting", prompt.Name);
        var greeting = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Ada" });
        Assert.Contains("Hello, Ada!", ((TextContentBlock)greeting.Messages[0].Content).Text);
        var resource = Assert.Single(await client.ListResourcesAsync());
        Assert.Equal("test://static", resource.Uri);
        Assert.Equal("static content", ((TextResourceContents)(await client.ReadResourceAsync("test://static")).Contents[0]).Text);
    }

    [Theory]
    [InlineData("echo")] // the renamed tool under its upstream name
    [InlineData("sleep")] // a tool of a member server that no selector picks
    [InlineData("read_secret")] // selected by a glob, but filtered out by its own server
    public async Task A_tool_outside_the_selection_is_unknown(string tool)
    {
        await using var client = await _gateway.ConnectAsync("team/stream", token: TeamToken);

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(tool, new Dictionary<string, object?> { ["message"] = "x", ["milliseconds"] = 1 }).AsTask());
        Assert.Contains($"Unknown tool: '{tool}'", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData("tools-token")] // a member server's token does not open the virtual server
    public async Task Callers_without_the_virtual_servers_token_are_refused(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "team/stream")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("team/stream", "streamable")]
    [InlineData("team/sse", "sse")]
    public async Task The_typescript_sdk_client_uses_a_virtual_server(string path, string mode)
    {
        using var seen = await TypeScriptClient.RunAsync(new Uri(_gateway.Proxy.BaseAddress, path), mode, tool: "say", token: TeamToken);

        Assert.Equal("Echo: from typescript", seen.RootElement.GetProperty("echo").GetString());
        Assert.Equal(["say", "get-sum", "add", "progress"], seen.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Open_sessions_hear_list_changed_when_the_membership_changes()
    {
        await using var client = await _gateway.ConnectAsync("team/stream", token: TeamToken, protocolVersion: ProxyHarness.SessionProtocol);
        var heard = ListChangedCounter(client);

        await _gateway.Admin.UpdateVirtualServerAsync("team", Team with { Tools = [.. Team.Tools!, "tools:echo"], AuthTokens = ["***"] });

        await Eventually.GetAsync(() => Task.FromResult(heard.Count), n => n > 0, "tools/list_changed after the update");
        Assert.Equal(["say", "get-sum", "add", "progress", "echo"], (await client.ListToolsAsync()).Select(t => t.Name));
        Assert.Equal("Echo: twice", (await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "twice" })).Text());
        Assert.Equal("twice", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "twice" })).Text());
    }

    [Fact]
    public async Task Open_sessions_hear_list_changed_when_a_member_servers_tools_change()
    {
        await using var client = await _gateway.ConnectAsync("team/stream", token: TeamToken, protocolVersion: ProxyHarness.SessionProtocol);
        var heard = ListChangedCounter(client);

        // On the member server's own endpoint, a tool the virtual server's glob selects appears.
        await using var direct = await _gateway.ConnectAsync("tools/stream", token: "tools-token");
        await direct.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "dyn_fresh" });

        await Eventually.GetAsync(() => Task.FromResult(heard.Count), n => n > 0, "tools/list_changed from the member server");
        Assert.Contains(await client.ListToolsAsync(), t => t.Name == "dyn_fresh");
        Assert.Equal("I am dyn_fresh", (await client.CallToolAsync("dyn_fresh")).Text());
    }

    [Fact]
    public async Task A_member_server_unregistered_takes_its_tools_and_a_call_says_why()
    {
        await using var client = await _gateway.ConnectAsync("team/sse", HttpTransportMode.Sse, TeamToken, ProxyHarness.SessionProtocol);
        var heard = ListChangedCounter(client);

        await _gateway.Admin.UnregisterAsync("tools");

        await Eventually.GetAsync(() => Task.FromResult(heard.Count), n => n > 0, "tools/list_changed after the unregister");
        Assert.Equal(["say", "get-sum"], (await client.ListToolsAsync()).Select(t => t.Name));
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 1 }).AsTask());
        Assert.Contains("The tool 'add' of virtual server 'team' is gone: MCP server 'tools', which it comes from, is not registered.", error.Message);
        Assert.Equal("Echo: still here", (await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "still here" })).Text());
    }

    [Fact]
    public async Task Elicitation_is_relayed_and_a_cancelled_call_frees_the_caller_as_on_a_server_endpoint()
    {
        await _gateway.Admin.UpdateVirtualServerAsync("team", Team with { Tools = [.. Team.Tools!, "tools:ask", "tools:sleep"], AuthTokens = ["***"] });
        await WaitServedAsync(_gateway, p => p?.Definition.Tools?.Contains("tools:ask") == true);
        await using var client = await _gateway.ConnectAsync("team/stream", token: TeamToken, protocolVersion: ProxyHarness.SessionProtocol, handlers: new McpClientHandlers
        {
            ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
            {
                Action = "accept",
                Content = new Dictionary<string, System.Text.Json.JsonElement> { ["answer"] = System.Text.Json.JsonSerializer.SerializeToElement($"yes to '{request?.Message}'") },
            }),
        });

        Assert.Equal("answer: yes to 'Ready?'", (await client.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "Ready?" })).Text());

        using var cancel = new CancellationTokenSource();
        var sleeping = client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }, cancellationToken: cancel.Token).AsTask();
        await _gateway.WaitInFlightAsync("tools", 1);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeping);
        Assert.Equal("Echo: after", (await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "after" })).Text());
    }

    [Fact]
    public async Task Metrics_and_traces_name_the_virtual_server_beside_the_real_one()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == McpServerless.Metrics.GatewayMetrics.MeterName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var trace = ActivityTraceId.CreateRandom(); // this call's spans, whatever else the process traces meanwhile
        await using var client = await _gateway.ConnectAsync("team/stream", token: TeamToken, protocolVersion: ProxyHarness.SessionProtocol);
        await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "counted" },
            options: new RequestOptions { Meta = new System.Text.Json.Nodes.JsonObject { ["traceparent"] = $"00-{trace}-{ActivitySpanId.CreateRandom()}-01" } });

        // The virtual server's route names it beside the real server the call went to, under the exposed tool name;
        // the upstream call below it is the real server's, under the upstream name. The open session counts for the virtual server.
        var text = await Eventually.GetAsync(async () =>
        {
            using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, "metrics"));
            return await response.Content.ReadAsStringAsync();
        }, t => t.Contains("mcp_server_operation_duration_seconds_count{", StringComparison.Ordinal) && t.Contains("mcp_gateway_virtual_server=\"team\"", StringComparison.Ordinal),
            "the server operation histogram to be scraped with the virtual server");
        var lines = text.Split('\n');
        Assert.Contains(lines, line => line.StartsWith("mcp_server_operation_duration_seconds_count{", StringComparison.Ordinal)
            && line.Contains("mcp_gateway_route=\"virtual\"", StringComparison.Ordinal) && line.Contains("mcp_gateway_virtual_server=\"team\"", StringComparison.Ordinal)
            && line.Contains("mcp_gateway_server=\"everything\"", StringComparison.Ordinal) && line.Contains("gen_ai_tool_name=\"say\"", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("mcp_client_operation_duration_seconds_count{", StringComparison.Ordinal)
            && line.Contains("mcp_gateway_server=\"everything\"", StringComparison.Ordinal) && line.Contains("gen_ai_tool_name=\"echo\"", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("mcp_gateway_sessions_active{", StringComparison.Ordinal)
            && line.Contains("mcp_gateway_route=\"virtual\"", StringComparison.Ordinal) && line.Contains("mcp_gateway_virtual_server=\"team\"", StringComparison.Ordinal)
            && line[(line.LastIndexOf('}') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0] == "1"); // the value, before any timestamp
        Assert.DoesNotContain(lines, line => line.Contains("mcp_gateway_server=\"team\"", StringComparison.Ordinal));

        var traced = await Eventually.GetAsync(() => Task.FromResult(spans.Where(span => span.TraceId == trace).ToArray()),
            t => t.Length == 2, "the server and client spans of the call");
        var server = Assert.Single(traced, span => span.DisplayName == "tools/call say");
        Assert.Equal(ActivityKind.Server, server.Kind);
        Assert.Equal("virtual", server.GetTagItem("mcp_gateway.route"));
        Assert.Equal("team", server.GetTagItem("mcp_gateway.virtual_server"));
        Assert.Equal("everything", server.GetTagItem("mcp_gateway.server"));
        var relayed = Assert.Single(traced, span => span.DisplayName == "tools/call echo");
        Assert.Equal(server.SpanId, relayed.ParentSpanId);
        Assert.Equal(ActivityKind.Client, relayed.Kind);
        Assert.Equal("everything", relayed.GetTagItem("mcp_gateway.server"));
    }

    [Fact]
    public async Task Once_the_virtual_server_is_deleted_its_endpoints_are_404()
    {
        await _gateway.Admin.UnregisterVirtualServerAsync("team");
        await WaitServedAsync(_gateway, p => p is null);

        using var response = await _gateway.Http.PostAsync("team/stream", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static ConcurrentQueue<string> ListChangedCounter(McpClient client)
    {
        var heard = new ConcurrentQueue<string>();
        // Kept for the client's lifetime: the registration ends with the client.
        _ = client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            heard.Enqueue("tools");
            return default;
        });
        return heard;
    }

    private static Task<VirtualServerPlan?> WaitServedAsync(GatewayHarness gateway, Func<VirtualServerPlan?, bool> done) =>
        Eventually.GetAsync(() => Task.FromResult(gateway.Proxy.Services.GetRequiredService<VirtualServerCatalog>().TryGet("team", out var plan) ? plan : null),
            done, "the catalog to serve the change");
}
