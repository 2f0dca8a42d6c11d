using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// <c>McpProxy:Limits:MaxParkedCallsPerCaller</c>: a stateless caller that leaves calls waiting for its input (each
/// holding an upstream request open) keeps at most that many; one more gives up its oldest.
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
    public async Task A_caller_over_the_limit_of_waiting_calls_gives_up_its_oldest_and_keeps_the_others()
    {
        var oldest = await CallAsync();
        var second = await CallAsync();
        var newest = await CallAsync();
        Assert.Equal("input_required", newest["resultType"]!.GetValue<string>());
        Assert.Equal(2, (await _gateway.Admin.GetMetricsAsync()).PendingBridgedCalls);

        var givenUp = await RetryAsync(oldest);
        Assert.Equal(-32602, givenUp["code"]!.GetValue<int>());
        Assert.Equal("expired", givenUp["data"]!["reason"]!.GetValue<string>());
        Assert.Equal("Hello, Alice!", (await RetryAsync(second))["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("Hello, Alice!", (await RetryAsync(newest))["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(0, (await _gateway.Admin.GetMetricsAsync()).PendingBridgedCalls);
    }

    private Task<JsonNode> CallAsync(string? state = null, JsonObject? responses = null) =>
        RevisionBridgeTests.CallAsync(_gateway.Http, Tool, state, responses, $"{Server}/stream");

    private Task<JsonNode> RetryAsync(JsonNode inputRequired) =>
        CallAsync(inputRequired["requestState"]!.GetValue<string>(), new JsonObject { ["user_name"] = RevisionBridgeTests.Answer("elicitation/create", null) });
}
