using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.Tests.Storage;
using ModelContextProtocol;
using Xunit.Abstractions;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// Two gateway replicas (separate processes) on one Redis, sharing the registry and the requestState key ring, as on
/// Container Apps with more than one replica: a stateless caller's retry that the load balancer sends to the replica
/// not holding its parked call is told which replica holds it, and that replica can still finish the call.
/// </summary>
public sealed class ReplicaAffinityTests(ITestOutputHelper output)
{
    private const string Tool = "test_input_required_result_elicitation";

    [Fact]
    public async Task A_retry_on_the_wrong_replica_is_refused_naming_the_holder_which_still_finishes_the_call()
    {
        await using var redis = await RedisServer.StartNewAsync();
        Dictionary<string, string> Replica(string id) => new()
        {
            ["McpProxy:InstanceId"] = id,
            ["McpProxy:Storage:Provider"] = "Redis",
            ["McpProxy:Storage:Redis:Configuration"] = redis.Configuration,
            ["McpProxy:ChangeFeed:Provider"] = "Redis",
        };
        await using var a = await GatewayProcess.StartAsync(Replica("replica-a"));
        await using var b = await GatewayProcess.StartAsync(Replica("replica-b"));
        try
        {
            await a.Admin.RegisterAsync(RevisionBridgeTests.Conformance("legacy", "requests") with { ProtocolVersion = "2025-11-25" });
            await ServesAsync(a);
            await ServesAsync(b);

            var first = await RevisionBridgeTests.CallAsync(a.Http, Tool);
            Assert.Equal("input_required", first["resultType"]!.GetValue<string>());
            var state = first["requestState"]!.GetValue<string>();
            var answer = new JsonObject { ["user_name"] = RevisionBridgeTests.Answer("elicitation/create", null) };

            var misrouted = await RevisionBridgeTests.CallAsync(b.Http, Tool, state, answer);
            Assert.Equal(-32602, misrouted["code"]!.GetValue<int>());
            Assert.Equal("other-replica", misrouted["data"]!["reason"]!.GetValue<string>());
            Assert.Equal("replica-a", misrouted["data"]!["replica"]!.GetValue<string>());
            Assert.Contains("'replica-a'", misrouted["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(1, (await a.Admin.GetMetricsAsync()).PendingBridgedCalls);
            Assert.Equal(0, (await b.Admin.GetMetricsAsync()).PendingBridgedCalls);

            // The refusal did not use the state up: the holder continues the call.
            var done = await RevisionBridgeTests.CallAsync(a.Http, Tool, state, answer);
            Assert.Equal("Hello, Alice!", done["content"]![0]!["text"]!.GetValue<string>());
            Assert.Equal(0, (await a.Admin.GetMetricsAsync()).PendingBridgedCalls);
        }
        catch
        {
            output.WriteLine($"--- replica A ---{Environment.NewLine}{a.Output}{Environment.NewLine}--- replica B ---{Environment.NewLine}{b.Output}");
            throw;
        }
    }

    // Registered on A, stored in Redis; B connects its own upstream when the feed tells it.
    private static Task ServesAsync(GatewayProcess replica) =>
        Eventually.GetAsync(async () =>
        {
            try
            {
                await using var client = await ProxyHarness.ConnectAsync(replica.BaseAddress, "legacy/stream");
                return (await client.ListToolsAsync()).Select(t => t.Name).ToList();
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException)
            {
                return new List<string>();
            }
        }, tools => tools.Contains(Tool), "the conformance upstream to be served", TimeSpan.FromSeconds(60));
}
