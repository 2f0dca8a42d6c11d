using System.Text.Json;
using McpServerless.Tests.Infrastructure;
using McpServerless.Model;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Proxy;

/// <summary>
/// A 2025-11-25 upstream's sampling and elicitation requests reach the client whose call caused them, over a shared
/// connection (the test server is pinned to that revision; a 2026-07-28 upstream asks with input-required results):
/// over streamable HTTP by the POST stream they come on, over stdio while one session is waiting.
/// </summary>
public sealed class ServerToClientRequestTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;
    private ExternalProcess _httpUpstream = null!;

    public async Task InitializeAsync()
    {
        (_httpUpstream, var port) = await TestServers.StartHttpAsync();
        _gateway = await GatewayHarness.StartAsync();
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("tools", d => d with { ProtocolVersion = ProxyHarness.SessionProtocol }));
        await _gateway.Admin.RegisterAsync(TestServers.Http("remote", port, d => d with { ProtocolVersion = ProxyHarness.SessionProtocol }));
        // Pinned, so it is asked server/discover, whose probe has half the timeout: generous for a stdio child on a busy machine.
        await _gateway.Admin.RegisterAsync(TestServers.Stdio("modern", d => d with { ProtocolVersion = McpRevisions.Stateless, Timeout = TimeSpan.FromSeconds(60) }));
        foreach (var name in new[] { "tools", "remote", "modern" }) await _gateway.WaitConnectedAsync(name);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _httpUpstream.DisposeAsync();
    }

    [Theory]
    [InlineData("tools/stream", HttpTransportMode.StreamableHttp, "ask")]
    [InlineData("tools/sse", HttpTransportMode.Sse, "ask")]
    [InlineData("mcp", HttpTransportMode.StreamableHttp, "tools__ask")]
    public async Task Elicitation_reaches_the_calling_client_and_its_answer_the_server(string path, HttpTransportMode mode, string tool)
    {
        string? asked = null;
        await using var client = await _gateway.ConnectAsync(path, mode, protocolVersion: ProxyHarness.SessionProtocol, handlers: new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                asked = request?.Message;
                return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["answer"] = JsonSerializer.SerializeToElement("forty-two") } });
            },
        });

        var result = await client.CallToolAsync(tool, new Dictionary<string, object?> { ["question"] = "What is the answer?" });

        Assert.Equal("answer: forty-two", result.Text());
        Assert.Equal("What is the answer?", asked);
    }

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on; clients of earlier revisions still answer it.
    [Fact]
    public async Task Sampling_reaches_the_calling_client_and_its_answer_the_server()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: new McpClientHandlers
        {
            SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
            {
                Model = "test-model",
                Role = Role.Assistant,
                Content = [new TextContentBlock { Text = $"{request!.Messages.Count} message(s) read" }],
            }),
        });

        var result = await client.CallToolAsync("summarize", new Dictionary<string, object?> { ["text"] = "a long story" });

        Assert.Equal("test-model: 1 message(s) read", result.Text());
    }
#pragma warning restore MCP9005

    [Fact]
    public async Task A_client_without_the_capability_gets_a_clear_error_not_a_hang()
    {
        await using var client = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol);

        var error = await CallForErrorAsync(client, "ask", new() { ["question"] = "Anyone there?" });

        Assert.Contains("does not support elicitation/create", error);
    }

    [Fact]
    public async Task A_stateless_client_is_asked_through_the_revision_bridge()
    {
        string? asked = null;
        await using var client = await _gateway.ConnectAsync("tools/stream", handlers: new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                asked = request?.Message;
                return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["answer"] = JsonSerializer.SerializeToElement("yes") } });
            },
        });

        var result = await client.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "Anyone there?" });

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.Equal("answer: yes", result.Text());
        Assert.Equal("Anyone there?", asked);
    }

    [Fact]
    public async Task With_a_2026_07_28_upstream_each_of_several_sessions_is_asked_its_own_question()
    {
        // Such an upstream answers each call with its own input-required result, so nothing needs guessing.
        await using var alice = await _gateway.ConnectAsync("modern/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: Answer("alice"));
        await using var bob = await _gateway.ConnectAsync("modern/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: Answer("bob"));

        var answers = await Task.WhenAll(
            alice.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "one" }).AsTask(),
            bob.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "two" }).AsTask());

        Assert.Equal(["answer: alice heard 'one'", "answer: bob heard 'two'"], answers.Select(a => a.Text()));
    }

    [Fact]
    public async Task A_stateless_client_that_did_not_declare_the_capability_is_told_which_one()
    {
        // On the wire: the SDK's client does not read a JSON-RPC error from a 400 that streams it.
        using var request = new HttpRequestMessage(HttpMethod.Post, "tools/stream")
        {
            Content = new StringContent("""
                {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ask","arguments":{"question":"Anyone there?"},
                 "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}
                """, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", "ask");

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        using var message = JsonDocument.Parse(body[(body.IndexOf("data:", StringComparison.Ordinal) + 5)..]);
        Assert.Equal(7, message.RootElement.GetProperty("id").GetInt32());
        var error = message.RootElement.GetProperty("error");
        Assert.Equal((int)McpErrorCode.MissingRequiredClientCapability, error.GetProperty("code").GetInt32());
        Assert.True(error.GetProperty("data").GetProperty("requiredCapabilities").TryGetProperty("elicitation", out _), body);
    }

    [Fact]
    public async Task With_several_sessions_waiting_the_gateway_refuses_to_guess()
    {
        var elicited = false;
        var handlers = new McpClientHandlers
        {
            ElicitationHandler = (_, _) =>
            {
                elicited = true;
                return ValueTask.FromResult(new ElicitResult { Action = "decline" });
            },
        };
        await using var waiting = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: handlers);
        await using var asking = await _gateway.ConnectAsync("tools/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: handlers);
        var sleeping = waiting.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 3_000 }).AsTask();
        await _gateway.WaitInFlightAsync("tools");

        var error = await CallForErrorAsync(asking, "ask", new() { ["question"] = "Whose question is this?" });

        Assert.Contains("cannot tell which", error);
        Assert.False(elicited);
        Assert.Equal("slept 3000ms", (await sleeping).Text());
    }

    [Fact]
    public async Task Over_streamable_http_a_request_goes_to_the_call_whose_stream_it_came_on_while_others_are_in_flight()
    {
        await using var waiting = await _gateway.ConnectAsync("remote/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: Answer("nobody"));
        await using var alice = await _gateway.ConnectAsync("remote/stream", protocolVersion: ProxyHarness.SessionProtocol, handlers: Answer("alice"));
        await using var bob = await _gateway.ConnectAsync("mcp", protocolVersion: ProxyHarness.SessionProtocol, handlers: Answer("bob"));
        await using var carol = await _gateway.ConnectAsync("remote/stream", handlers: Answer("carol")); // stateless: asked through the revision bridge
        var sleeping = waiting.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 5_000 }).AsTask();
        await _gateway.WaitInFlightAsync("remote");

        var answers = await Task.WhenAll(
            alice.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "one" }).AsTask(),
            bob.CallToolAsync("remote__ask", new Dictionary<string, object?> { ["question"] = "two" }).AsTask(),
            carol.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "three" }).AsTask());

        Assert.Equal(["answer: alice heard 'one'", "answer: bob heard 'two'", "answer: carol heard 'three'"], answers.Select(a => a.Text()));
        Assert.Equal("slept 5000ms", (await sleeping).Text());
    }

    /// <summary>A client that answers every elicitation as <paramref name="name"/>, quoting the question.</summary>
    private static McpClientHandlers Answer(string name) => new()
    {
        ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
        {
            Action = "accept",
            Content = new Dictionary<string, JsonElement> { ["answer"] = JsonSerializer.SerializeToElement($"{name} heard '{request!.Message}'") },
        }),
    };

    /// <summary>The upstream's tool fails on the gateway's JSON-RPC error; depending on the server that is a tool error or a JSON-RPC error.</summary>
    private static async Task<string> CallForErrorAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        try
        {
            var result = await client.CallToolAsync(tool, arguments);
            Assert.True(result.IsError, $"expected an error, got: {result.Text()}");
            return result.Text();
        }
        catch (McpProtocolException ex)
        {
            return ex.Message;
        }
    }
}
