using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Bridge;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.Tests.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// The revision bridge end to end: real SDK clients of both revisions call the conformance upstream's tools that need
/// sampling and elicitation, on an upstream of each revision (the 2 × 2 matrix), and a stateless caller's state is
/// tampered with, expires, or is never used.
/// </summary>
public sealed class RevisionBridgeTests : IAsyncLifetime
{
    /// <summary>Asks the 2025-11-25 way (requests during the call), pinned to that revision.</summary>
    private const string Legacy = "legacy";

    /// <summary>Asks the 2026-07-28 way (input-required results), pinned to that revision (it also speaks 2025-11-25, which the gateway would prefer).</summary>
    private const string Modern = "modern";

    // Generous: half of it bounds the server/discover probe, and a stdio child slow to start on a busy machine must not
    // be taken for a server that ignores it (which would negotiate 2025-11-25).
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(60);

    // The bridge's clock: a parked call's deadline and its state's expiry pass only when a test says so.
    private readonly FakeTimeProvider _bridgeTime = new(DateTimeOffset.UtcNow);
    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync(configureBuilder: builder =>
        {
            // Registered before AddMcpGatewayBridge's own (which only adds what is missing). No gathering window:
            // fake time would hold it shut; a round then holds what was asked when the caller is answered.
            builder.Services.AddSingleton(new PendingCallRegistry(_bridgeTime, TimeSpan.Zero));
            builder.Services.AddSingleton(sp => new RequestStateProtector(
                sp.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>(), "replica-test", _bridgeTime));
        });
        await _gateway.Admin.RegisterAsync(Conformance(Legacy, "requests") with { ProtocolVersion = "2025-11-25" });
        await _gateway.Admin.RegisterAsync(Conformance(Modern, "results") with { ProtocolVersion = McpRevisions.Stateless });
        await _gateway.WaitConnectedAsync(Legacy);
        await _gateway.WaitConnectedAsync(Modern);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string?, string> Matrix => new()
    {
        { null, Legacy }, // a 2026-07-28 client, bridged: input-required results made from the upstream's requests
        { null, Modern }, // a 2026-07-28 client: the upstream's input-required results pass through
        { ProxyHarness.SessionProtocol, Legacy }, // a 2025-11-25 client: the upstream's requests relayed
        { ProxyHarness.SessionProtocol, Modern }, // a 2025-11-25 client: asked with real requests, the gateway retries
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Clients_of_either_revision_answer_sampling_and_elicitation_of_upstreams_of_either_revision(string? clientRevision, string upstream)
    {
        var asked = new List<string>();
        await using var client = await _gateway.ConnectAsync($"{upstream}/stream", protocolVersion: clientRevision, handlers: Answering(asked));

        var greeting = await client.CallToolAsync("test_input_required_result_elicitation");
        var sampled = await client.CallToolAsync("test_input_required_result_sampling");
        var multi = await client.CallToolAsync("test_input_required_result_multi_round");

        Assert.Equal("Hello, Alice!", greeting.Text());
        Assert.Equal("The client's model answered: Paris", sampled.Text());
        Assert.Equal("Alice likes green.", multi.Text());
        Assert.Equal(["What is your name?", "What is the capital of France?", "Step 1: What is your name?", "Step 2: What is your favorite color?"], asked);
        // Each hop speaks what was negotiated on it: the bridge is between them.
        Assert.Equal(clientRevision ?? McpRevisions.Stateless, client.NegotiatedProtocolVersion);
        Assert.Equal(upstream == Legacy ? "2025-11-25" : McpRevisions.Stateless, _gateway.Upstream(upstream).Session!.Client.NegotiatedProtocolVersion);
        Assert.Equal(0, await PendingAsync());
    }

    [Fact]
    public async Task A_bridged_round_carries_every_request_the_upstream_sent_at_once_under_its_keys()
    {
        var first = await CallAsync("test_input_required_result_multiple_inputs");
        var requests = first["inputRequests"]!.AsObject();
        var state = first["requestState"]!.GetValue<string>();
        // With no gathering window the round may close before all three arrive; the retry then asks for the rest.
        var answered = new JsonObject();
        JsonNode result;
        while (true)
        {
            foreach (var (key, request) in requests) answered[key] = Answer(request!["method"]!.GetValue<string>(), request["params"]);
            var next = await CallAsync("test_input_required_result_multiple_inputs", state, Only(answered, requests));
            if (next["resultType"]!.GetValue<string>() == "complete")
            {
                result = next;
                break;
            }
            requests = next["inputRequests"]!.AsObject();
            state = next["requestState"]!.GetValue<string>();
        }

        Assert.Equal(["client_roots", "greeting", "user_name"], answered.Select(p => p.Key).Order());
        Assert.Equal("Paris, Alice. The client has 1 root(s): file:///work.", result["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tampered_state_is_refused_and_a_used_one_cannot_be_replayed()
    {
        var first = await CallAsync("test_input_required_result_elicitation");
        var state = first["requestState"]!.GetValue<string>();
        var answer = new JsonObject { ["user_name"] = Answer("elicitation/create", null) };

        var tampered = await CallAsync("test_input_required_result_elicitation", state[..^4] + "AAAA", answer);
        Assert.Equal(-32602, tampered["code"]!.GetValue<int>());
        Assert.Equal("tampered", tampered["data"]!["reason"]!.GetValue<string>());

        var done = await CallAsync("test_input_required_result_elicitation", state, answer);
        Assert.Equal("Hello, Alice!", done["content"]![0]!["text"]!.GetValue<string>());

        var replayed = await CallAsync("test_input_required_result_elicitation", state, answer);
        Assert.Equal("replayed", replayed["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(0, await PendingAsync());
    }

    [Fact]
    public async Task A_caller_that_never_retries_has_its_upstream_call_cancelled_at_the_deadline_and_its_state_expires()
    {
        var first = await CallAsync("test_input_required_result_elicitation");
        Assert.Equal("input_required", first["resultType"]!.GetValue<string>());
        Assert.Equal(1, await PendingAsync());
        Assert.Equal(1, _gateway.Upstream(Legacy).InFlight); // the upstream call waits for the answer

        _bridgeTime.Advance(UpstreamTimeout + TimeSpan.FromSeconds(1));

        Assert.Equal(0, await PendingAsync());
        await Eventually.GetAsync(() => Task.FromResult(_gateway.Upstream(Legacy).InFlight), n => n == 0, "the upstream call to be cancelled");
        var late = await CallAsync("test_input_required_result_elicitation", first["requestState"]!.GetValue<string>(),
            new JsonObject { ["user_name"] = Answer("elicitation/create", null) });
        Assert.Equal(-32602, late["code"]!.GetValue<int>());
        Assert.Equal("expired", late["data"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_state_is_good_only_for_the_caller_and_server_it_was_issued_to()
    {
        var first = await CallAsync("test_input_required_result_elicitation");
        var state = first["requestState"]!.GetValue<string>();
        var answer = new JsonObject { ["user_name"] = Answer("elicitation/create", null) };

        var elsewhere = await CallAsync($"{Legacy}__test_input_required_result_elicitation", state, answer, path: "mcp");
        Assert.Equal("other-route", elsewhere["data"]!["reason"]!.GetValue<string>());
        var stranger = await CallAsync("test_input_required_result_elicitation", state, answer, token: "someone-else");
        Assert.Equal("other-caller", stranger["data"]!["reason"]!.GetValue<string>());

        // Neither refusal used it up.
        var done = await CallAsync("test_input_required_result_elicitation", state, answer);
        Assert.Equal("Hello, Alice!", done["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_2026_07_28_upstreams_input_required_result_passes_through_unchanged_and_the_gateway_holds_nothing()
    {
        const string tool = "test_input_required_result_elicitation";
        var first = await CallAsync(tool, path: $"{Modern}/stream");

        // The upstream's own key and state: the gateway parks nothing and keeps no upstream request open.
        Assert.Equal("input_required", first["resultType"]!.GetValue<string>());
        Assert.Equal(["user_name"], first["inputRequests"]!.AsObject().Select(p => p.Key));
        Assert.Equal(0, await PendingAsync());
        Assert.Equal(0, _gateway.Upstream(Modern).InFlight);

        var state = first["requestState"]!.GetValue<string>();
        var answer = new JsonObject { ["user_name"] = Answer("elicitation/create", null) };
        // The upstream checks its own state; its refusal reaches the caller as it sent it.
        var tampered = await CallAsync(tool, state[..^4] + "AAAA", answer, path: $"{Modern}/stream");
        Assert.Equal(-32602, tampered["code"]!.GetValue<int>());
        var done = await CallAsync(tool, state, answer, path: $"{Modern}/stream");
        Assert.Equal("Hello, Alice!", done["content"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(ProxyHarness.SessionProtocol)]
    public async Task The_aggregate_bridges_per_routed_server(string? clientRevision)
    {
        var asked = new List<string>();
        await using var client = await _gateway.ConnectAsync("mcp", protocolVersion: clientRevision, handlers: Answering(asked));

        var bridged = await client.CallToolAsync($"{Legacy}__test_input_required_result_elicitation");
        var passed = await client.CallToolAsync($"{Modern}__test_input_required_result_sampling");

        Assert.Equal("Hello, Alice!", bridged.Text());
        Assert.Equal("The client's model answered: Paris", passed.Text());
        Assert.Equal(["What is your name?", "What is the capital of France?"], asked);
    }

    internal static McpDefinition Conformance(string name, string inputRequired) =>
        TestServers.ConformanceStdio(name) with { Args = [TestServers.ConformanceServerDll, "stdio", "--input-required", inputRequired], Timeout = UpstreamTimeout };

    /// <summary>A client that answers as a user named Alice whose favourite colour is green, with a model that knows capitals.</summary>
    internal static McpClientHandlers Answering(List<string>? asked = null) => new()
    {
        ElicitationHandler = (request, _) =>
        {
            lock (asked ?? []) asked?.Add(request!.Message);
            var field = request!.RequestedSchema!.Properties.Keys.Single();
            return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { [field] = JsonSerializer.SerializeToElement(field == "color" ? "green" : "Alice") } });
        },
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but still asked for there.
        SamplingHandler = (request, _, _) =>
        {
            lock (asked ?? []) asked?.Add(((TextContentBlock)request!.Messages[0].Content[0]).Text);
            return ValueTask.FromResult(new CreateMessageResult { Model = "test-model", Role = Role.Assistant, Content = [new TextContentBlock { Text = "Paris" }] });
        },
        RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work" }] }),
#pragma warning restore MCP9005
    };

    /// <summary>What <see cref="Answering"/> would answer, as an <c>inputResponses</c> entry.</summary>
    internal static JsonNode Answer(string method, JsonNode? parameters) => method switch
    {
        "elicitation/create" => new JsonObject
        {
            ["action"] = "accept",
            ["content"] = new JsonObject { [parameters?["requestedSchema"]?["properties"]?.AsObject().Single().Key ?? "name"] = "Alice" },
        },
        "sampling/createMessage" => new JsonObject { ["role"] = "assistant", ["model"] = "test-model", ["content"] = new JsonObject { ["type"] = "text", ["text"] = "Paris" } },
        _ => new JsonObject { ["roots"] = new JsonArray(new JsonObject { ["uri"] = "file:///work" }) },
    };

    /// <summary>A raw 2026-07-28 tools/call to the legacy upstream (or elsewhere); returns the result, or the error.</summary>
    internal static async Task<JsonNode> CallAsync(HttpClient http, string tool, string? state = null, JsonObject? responses = null,
        string path = $"{Legacy}/stream", string? token = null)
    {
        var parameters = new JsonObject
        {
            ["name"] = tool,
            ["arguments"] = new JsonObject(),
            ["_meta"] = new JsonObject
            {
                ["io.modelcontextprotocol/protocolVersion"] = McpRevisions.Stateless,
                ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject { ["elicitation"] = new JsonObject(), ["sampling"] = new JsonObject(), ["roots"] = new JsonObject() },
            },
        };
        if (state is not null) parameters["requestState"] = state;
        if (responses is not null) parameters["inputResponses"] = responses.DeepClone();
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "tools/call", ["params"] = parameters };
        using var request = RawMcp.Post(path, body.ToJsonString(), token: token);
        request.Headers.Add("MCP-Protocol-Version", McpRevisions.Stateless);
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", tool);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.StartsWith('{') ? text : string.Concat(text.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l[6..]));
        var message = JsonNode.Parse(json)!;
        return message["result"] ?? message["error"] ?? throw new InvalidOperationException(text);
    }

    private Task<JsonNode> CallAsync(string tool, string? state = null, JsonObject? responses = null, string path = $"{Legacy}/stream", string? token = null) =>
        CallAsync(_gateway.Http, tool, state, responses, path, token);

    private async Task<int> PendingAsync() => (await _gateway.Admin.GetMetricsAsync()).PendingBridgedCalls;

    private static JsonObject Only(JsonObject answered, JsonObject requests) =>
        new(requests.Select(r => KeyValuePair.Create(r.Key, answered[r.Key]?.DeepClone())));
}
