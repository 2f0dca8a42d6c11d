using System.Net;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Proxy;

/// <summary>Everything a client does with a server, done through the gateway against real upstreams.</summary>
public sealed class ProxyFeatureTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("tools", d => d with { ToolFilter = new ToolFilter { Deny = ["read_*"] } }));
        await _gateway.WaitConnectedAsync("tools");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Filtered_tools_are_neither_listed_nor_callable()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream");

        Assert.DoesNotContain(await client.ListToolsAsync(), t => t.Name == "read_secret");
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("read_secret").AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.DoesNotContain(await _gateway.Admin.ListToolsAsync(), t => t.Name == "read_secret");
    }

    [Fact]
    public async Task Admin_tools_show_the_real_aggregated_list()
    {
        var tools = await _gateway.Admin.ListToolsAsync();
        var echo = Assert.Single(tools, t => t.Name == "echo");
        Assert.Equal("tools", echo.McpName);
        Assert.Equal("Returns the message.", echo.Description);
        Assert.Equal("object", echo.InputSchema?.GetProperty("type").GetString());
        var status = (await _gateway.Admin.GetAsync("tools"))!.Status;
        Assert.Equal(tools.Count, status.ToolCount);
        Assert.NotNull(status.ConnectedSince);
    }

    [Fact]
    public async Task Upstream_errors_come_back_as_tool_errors()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream");
        var result = await client.CallToolAsync("fail", new Dictionary<string, object?> { ["message"] = "boom" });
        Assert.True(result.IsError);
        Assert.Contains("boom", result.Text());
    }

    [Theory]
    [InlineData("tools/stream", "progress", null)] // stateless 2026-07-28: progress rides the call's own response
    [InlineData("tools/stream", "progress", ProxyHarness.SessionProtocol)]
    [InlineData("mcp", "tools__progress", ProxyHarness.SessionProtocol)]
    public async Task Progress_reaches_the_caller_with_its_own_token(string path, string tool, string? protocolVersion)
    {
        await using var client = await _gateway.ConnectAsync(path, protocolVersion: protocolVersion);
        var progress = new ProgressRecorder(client);

        var result = await client.CallToolAsync(tool, new Dictionary<string, object?> { ["steps"] = 3 }, new Progress<ProgressNotificationValue>());

        Assert.Equal("done 3", result.Text());
        var (token, values) = Assert.Single(await progress.WaitForAsync(updates: 3));
        Assert.DoesNotContain("gw-", token); // the gateway's own upstream token is swapped back
        Assert.Equal([1f, 2f, 3f], values.Order());
    }

    [Fact]
    public async Task No_progress_sent_before_an_answer_is_lost_among_concurrent_calls()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol);
        var progress = new ProgressRecorder(client);

        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ =>
            client.CallToolAsync("progress", new Dictionary<string, object?> { ["steps"] = 10 }, new Progress<ProgressNotificationValue>()).AsTask()));

        var byToken = await progress.WaitForAsync(updates: 64 * 10);
        Assert.Equal(64, byToken.Count);
        Assert.All(byToken.Values, values => Assert.Equal(Enumerable.Range(1, 10).Select(i => (float)i), values.Order()));
    }

    [Fact]
    public async Task Prompts_resources_and_completion_work()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream");

        Assert.Contains(await client.ListPromptsAsync(), p => p.Name == "greeting");
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Ada" });
        Assert.Contains("Hello, Ada!", ((TextContentBlock)prompt.Messages[0].Content).Text);

        Assert.Contains(await client.ListResourcesAsync(), r => r.Uri == "test://static");
        Assert.Contains(await client.ListResourceTemplatesAsync(), r => r.UriTemplate == "test://items/{id}");
        var item = await client.ReadResourceAsync("test://items/42");
        Assert.Equal("item 42", ((TextResourceContents)item.Contents[0]).Text);
    }

    [Fact]
    public async Task Tools_list_changed_reaches_connected_sessions()
    {
        await using var watcher = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol);
        var changed = new TaskCompletionSource();
        await using var registration = watcher.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            changed.TrySetResult();
            return default;
        });

        await using var caller = await _gateway.ConnectAsync("tools/stream");
        await caller.CallToolAsync("add_tool", new Dictionary<string, object?> { ["name"] = "fresh_tool" });

        await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.GetAsync(async () => await watcher.ListToolsAsync(), t => t.Any(x => x.Name == "fresh_tool"), "the new tool to be listed", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Thirty_two_concurrent_sessions_get_their_own_answers()
    {
        var sessions = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => _gateway.ConnectAsync(i % 2 == 0 ? "tools/stream" : "tools/sse", i % 2 == 0 ? HttpTransportMode.StreamableHttp : HttpTransportMode.Sse)));
        try
        {
            var answers = await Task.WhenAll(sessions.Select(async (client, i) =>
            {
                var results = new List<string>();
                for (var call = 0; call < 5; call++)
                    results.Add((await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"s{i}-c{call}" })).Text());
                return (i, results);
            }));
            foreach (var (i, results) in answers)
                Assert.Equal(Enumerable.Range(0, 5).Select(c => $"s{i}-c{c}"), results);
        }
        finally
        {
            foreach (var client in sessions) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Cancelling_a_call_frees_the_caller()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 20_000 }, cancellationToken: cancel.Token).AsTask());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Equal("still here", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" })).Text());
    }
}
