using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Relay;

/// <summary>The map of calls a shared upstream connection carries for downstream callers: progress routing and whom to ask.</summary>
public sealed class CallerCallsTests
{
    [Fact]
    public async Task Progress_reaches_only_its_caller_with_the_callers_own_token_in_order()
    {
        var calls = new CallerCalls("srv");
        var alice = new RecordingCaller("a");
        var bob = new RecordingCaller("b");
        var aliceParams = JsonNode.Parse("""{"name":"t","_meta":{"progressToken":"alice-1"}}""");
        var bobParams = JsonNode.Parse("""{"name":"t","_meta":{"progressToken":7}}""");
        using var aliceCall = calls.Begin(aliceParams, alice);
        using var bobCall = calls.Begin(bobParams, bob);

        var aliceUpstreamToken = aliceParams!["_meta"]!["progressToken"]!.GetValue<string>();
        var bobUpstreamToken = bobParams!["_meta"]!["progressToken"]!.GetValue<string>();
        Assert.NotEqual(aliceUpstreamToken, bobUpstreamToken);
        Assert.StartsWith("gw-", aliceUpstreamToken);

        for (var i = 1; i <= 3; i++) Assert.True(calls.TryRouteProgress(Progress(aliceUpstreamToken, i), _ => { }, default));
        Assert.True(calls.TryRouteProgress(Progress(bobUpstreamToken, 1), _ => { }, default));
        await aliceCall.ProgressForwardedAsync();
        await bobCall.ProgressForwardedAsync();

        Assert.Equal([1, 2, 3], alice.Received.Select(n => n.Params!["progress"]!.GetValue<int>()));
        Assert.All(alice.Received, n => Assert.Equal("alice-1", n.Params!["progressToken"]!.GetValue<string>()));
        Assert.Equal(7, Assert.Single(bob.Received).Params!["progressToken"]!.GetValue<int>());
    }

    [Fact]
    public void Progress_of_a_finished_call_or_a_foreign_token_goes_nowhere()
    {
        var calls = new CallerCalls("srv");
        var caller = new RecordingCaller("a");
        var parameters = JsonNode.Parse("""{"_meta":{"progressToken":"p"}}""");
        var token = "";
        using (calls.Begin(parameters, caller)) token = parameters!["_meta"]!["progressToken"]!.GetValue<string>();

        Assert.False(calls.TryRouteProgress(Progress(token, 1), _ => { }, default));
        Assert.False(calls.TryRouteProgress(Progress("p", 1), _ => { }, default));
        Assert.False(calls.TryRouteProgress(Progress("gw-not-a-number", 1), _ => { }, default));
        Assert.Equal(0, calls.Count);
    }

    [Fact]
    public void A_call_without_a_progress_token_keeps_its_params_and_gets_no_progress()
    {
        var calls = new CallerCalls("srv");
        var parameters = JsonNode.Parse("""{"name":"t"}""");
        using var call = calls.Begin(parameters, new RecordingCaller("a"));
        Assert.Equal("""{"name":"t"}""", parameters!.ToJsonString());
        Assert.Null(call.OriginalProgressToken);
    }

    [Fact]
    public void Server_to_client_requests_go_to_the_one_waiting_session_only()
    {
        var calls = new CallerCalls("srv");
        Assert.Contains("No client session", Assert.Throws<McpProtocolException>(() => calls.SoleCaller("elicitation/create")).Message);

        var first = new RecordingCaller("session-1");
        var sameSession = new RecordingCaller("session-1");
        using var one = calls.Begin(null, first);
        using var two = calls.Begin(null, sameSession);
        Assert.Equal("session-1", calls.SoleCaller("elicitation/create").SessionKey); // two requests, one client

        using var other = calls.Begin(null, new RecordingCaller("session-2"));
        var error = Assert.Throws<McpProtocolException>(() => calls.SoleCaller("elicitation/create"));
        Assert.Equal(McpErrorCode.InvalidRequest, error.ErrorCode);
        Assert.Contains("several", error.Message);
    }

    [Fact]
    public void A_call_parked_for_its_caller_yields_to_one_in_flight_and_is_asked_only_when_alone()
    {
        var calls = new CallerCalls("srv");
        var parked = new RecordingCaller(null) { IsSuspended = true };
        using var waiting = calls.Begin(null, parked);
        Assert.Same(parked, calls.SoleCaller("elicitation/create")); // alone: the parked call may ask again

        var active = new RecordingCaller(null);
        using (calls.Begin(null, active))
            Assert.Same(active, calls.SoleCaller("elicitation/create")); // the parked call waits for its caller, not the upstream

        using var another = calls.Begin(null, new RecordingCaller(null) { IsSuspended = true });
        Assert.Contains("several", Assert.Throws<McpProtocolException>(() => calls.SoleCaller("elicitation/create")).Message);
    }

    private static JsonRpcNotification Progress(string token, int progress) => new()
    {
        Method = NotificationMethods.ProgressNotification,
        Params = new JsonObject { ["progressToken"] = token, ["progress"] = progress },
    };

    private sealed class RecordingCaller(string? sessionKey) : IUpstreamCaller
    {
        public ConcurrentQueue<JsonRpcNotification> Received { get; } = new();

        public string? SessionKey => sessionKey;

        public string? ProtocolVersion => "2025-11-25";

        public ClientCapabilities? Capabilities => null;

        public ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
        {
            Received.Enqueue(notification);
            return ValueTask.CompletedTask;
        }

        public bool IsSuspended { get; init; }

        public ValueTask<JsonNode?> AskAsync(string method, JsonNode? parameters, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
