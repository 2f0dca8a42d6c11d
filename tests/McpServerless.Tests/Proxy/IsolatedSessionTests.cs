using System.Globalization;
using System.Text.Json;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Proxy;

/// <summary>
/// <c>isolateSessions</c>: each downstream session gets its own upstream connection, living and dying with it, whether
/// it came through the server's endpoint, a virtual server or the aggregate.
/// </summary>
public sealed class IsolatedSessionTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("shared"));
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("isolated", d => d with { IsolateSessions = true }));
        await _gateway.WaitConnectedAsync("shared");
        await _gateway.WaitConnectedAsync("isolated");
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Sessions_share_one_upstream_process_by_default()
    {
        await using var first = await ConnectAsync("shared/stream");
        await using var second = await ConnectAsync("shared/sse", HttpTransportMode.Sse);

        Assert.Equal(await PidAsync(first, "whoami"), await PidAsync(second, "whoami"));
    }

    [Fact]
    public async Task Each_session_gets_its_own_process_which_ends_with_the_session()
    {
        var first = await ConnectAsync("isolated/stream");
        await using var second = await ConnectAsync("isolated/sse", HttpTransportMode.Sse);
        await using var aggregate = await ConnectAsync("mcp");

        var firstPid = await PidAsync(first, "whoami");
        var secondPid = await PidAsync(second, "whoami");
        var sharedPid = await PidAsync(aggregate, "isolated__whoami");

        Assert.Equal(3, new[] { firstPid, secondPid, sharedPid }.Distinct().Count());
        Assert.Equal(firstPid, await PidAsync(first, "whoami"));
        await first.DisposeAsync();
        await Eventually.ExitedAsync(firstPid, "the closed session's upstream process to exit");
        Assert.True(Eventually.IsRunning(secondPid));
        Assert.Equal(secondPid, await PidAsync(second, "whoami"));
    }

    [Fact]
    public async Task Stateless_clients_have_no_session_to_isolate_and_use_the_shared_connection()
    {
        await using var stateless = await _gateway.ConnectAsync("isolated/stream");
        await using var statelessOnTheAggregate = await _gateway.ConnectAsync("mcp");
        await using var session = await ConnectAsync("isolated/stream");

        var shared = await PidAsync(stateless, "whoami");
        Assert.Equal(shared, await PidAsync(statelessOnTheAggregate, "isolated__whoami"));
        Assert.NotEqual(shared, await PidAsync(session, "whoami"));
    }

    [Fact]
    public async Task Sessions_on_a_virtual_server_and_the_aggregate_get_their_own_process_of_an_isolated_member_which_ends_with_them()
    {
        await _gateway.Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "team", Tools = ["isolated:whoami", "shared:whoami"], Overrides = new Dictionary<string, MemberOverride> { ["shared:whoami"] = new() { Name = "shared_whoami" } } });
        await Eventually.GetAsync(() => Task.FromResult(_gateway.Proxy.Services.GetRequiredService<VirtualServerCatalog>().TryGet("team", out _)), served => served, "the catalog to serve the virtual server");
        await using var stateless = await _gateway.ConnectAsync("isolated/stream");
        var first = await ConnectAsync("team/stream");
        await using var second = await ConnectAsync("team/stream");
        await using var aggregate = await ConnectAsync("mcp");

        var firstPid = await PidAsync(first, "whoami");
        var pids = new[] { firstPid, await PidAsync(second, "whoami"), await PidAsync(aggregate, "isolated__whoami"), await PidAsync(stateless, "whoami") };
        Assert.Equal(4, pids.Distinct().Count());
        Assert.Equal(firstPid, await PidAsync(first, "whoami")); // the same one on every call
        // A member that is not isolated stays shared.
        Assert.Equal(await PidAsync(second, "shared_whoami"), await PidAsync(aggregate, "shared__whoami"));

        await first.DisposeAsync();
        await Eventually.ExitedAsync(firstPid, "the closed session's upstream process to exit");
    }

    [Fact]
    public async Task Unregistering_ends_the_sessions_and_their_processes()
    {
        var client = await ConnectAsync("isolated/stream");
        var pid = await PidAsync(client, "whoami");

        await _gateway.Admin.UnregisterAsync("isolated");

        await Eventually.ExitedAsync(pid, "the session's upstream process to exit");
        var gone = await Assert.ThrowsAsync<HttpRequestException>(() => client.CallToolAsync("whoami").AsTask());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task With_its_own_connection_a_session_gets_elicitations_while_others_are_busy()
    {
        var handlers = new McpClientHandlers
        {
            ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult
            {
                Action = "accept",
                Content = new Dictionary<string, JsonElement> { ["answer"] = JsonSerializer.SerializeToElement("mine") },
            }),
        };
        await using var busy = await ConnectAsync("isolated/stream", handlers: handlers);
        await using var asking = await ConnectAsync("isolated/stream", handlers: handlers);
        var sleeping = busy.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 2_000 }).AsTask();

        var answer = await asking.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "Whose?" });

        Assert.Equal("answer: mine", answer.Text());
        Assert.Equal("slept 2000ms", (await sleeping).Text());
    }

    private Task<McpClient> ConnectAsync(string path, HttpTransportMode mode = HttpTransportMode.StreamableHttp, McpClientHandlers? handlers = null) =>
        _gateway.ConnectAsync(path, mode, protocolVersion: ProxyHarness.SessionProtocol, handlers: handlers);

    private static async Task<int> PidAsync(McpClient client, string tool) =>
        int.Parse((await client.CallToolAsync(tool)).Text(), CultureInfo.InvariantCulture);
}
