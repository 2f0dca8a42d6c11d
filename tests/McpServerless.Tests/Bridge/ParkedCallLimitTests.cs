using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// <c>McpProxy:Limits:MaxParkedCallsPerCaller</c>: a stateless caller that leaves calls waiting for its input (each
/// holding an upstream slot) cannot start more than that many, and can again once it answers one.
/// </summary>
public sealed class ParkedCallLimitTests : IAsyncLifetime
{
    private const string Server = "legacy";
    private const string Tool = "test_input_required_result_elicitation";

    private GatewayHarness _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync(options => options.Limits.MaxParkedCallsPerCaller = 2);
        await _gateway.Admin.RegisterAsync(RevisionBridgeTests.Conformance(Server, "requests") with { ProtocolVersion = "2025-11-25" });
        await _gateway.WaitConnectedAsync(Server);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_caller_with_as_many_calls_waiting_as_the_limit_cannot_start_another_until_it_answers_one()
    {
        var first = await CallAsync();
        await CallAsync();
        Assert.Equal(2, (await _gateway.Admin.GetMetricsAsync()).PendingBridgedCalls);

        var refused = await CallAsync();
        Assert.Equal(-32603, refused["code"]!.GetValue<int>());
        Assert.Contains("MaxParkedCallsPerCaller", refused["message"]!.GetValue<string>());
        Assert.Equal(2, (await _gateway.Admin.GetMetricsAsync()).PendingBridgedCalls); // the refused call never went upstream

        var answered = await CallAsync(first["requestState"]!.GetValue<string>(), new JsonObject { ["user_name"] = RevisionBridgeTests.Answer("elicitation/create", null) });
        Assert.Equal("Hello, Alice!", answered["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("input_required", (await CallAsync())["resultType"]!.GetValue<string>());
    }

    private Task<JsonNode> CallAsync(string? state = null, JsonObject? responses = null) =>
        RevisionBridgeTests.CallAsync(_gateway.Http, Tool, state, responses, $"{Server}/stream");
}
