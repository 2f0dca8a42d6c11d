using System.Text.Json.Nodes;
using McpServerless.Proxy.Downstream;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Relay;

/// <summary>A session's requests in flight, which a client's <c>notifications/cancelled</c> reaches by request id.</summary>
public sealed class InFlightRequestsTests
{
    [Theory]
    [InlineData("""{"requestId":42}""")]
    [InlineData("""{"requestId":"42"}""")]
    public void Cancelled_reaches_the_request_with_that_id_only(string cancelledParams)
    {
        var requests = new InFlightRequests();
        var id = cancelledParams.Contains('"' + "42" + '"') ? new RequestId("42") : new RequestId(42);
        using var target = requests.Begin(id, CancellationToken.None);
        using var other = requests.Begin(new RequestId(43), CancellationToken.None);

        requests.Cancel(Cancelled(cancelledParams));

        Assert.True(target.Token.IsCancellationRequested);
        Assert.False(other.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_number_and_a_string_id_are_different_requests()
    {
        var requests = new InFlightRequests();
        using var numeric = requests.Begin(new RequestId(1), CancellationToken.None);
        requests.Cancel(Cancelled("""{"requestId":"1"}"""));
        Assert.False(numeric.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_finished_request_is_forgotten_and_a_malformed_notice_is_ignored()
    {
        var requests = new InFlightRequests();
        var finished = requests.Begin(new RequestId(1), CancellationToken.None);
        finished.Dispose();
        requests.Cancel(Cancelled("""{"requestId":1}""")); // nothing left to cancel, nothing thrown
        requests.Cancel(Cancelled("""{"requestId":{"odd":true}}"""));
        requests.Cancel(new JsonRpcNotification { Method = NotificationMethods.CancelledNotification });

        using var reused = requests.Begin(new RequestId(1), CancellationToken.None);
        Assert.False(reused.Token.IsCancellationRequested);
    }

    [Fact]
    public void Ending_the_session_cancels_its_requests()
    {
        using var session = new CancellationTokenSource();
        var requests = new InFlightRequests();
        using var call = requests.Begin(new RequestId(1), session.Token);
        session.Cancel();
        Assert.True(call.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_request_cancelled_by_the_client_or_the_session_hands_nothing_on_to_later_ones()
    {
        var requests = new InFlightRequests();
        requests.Begin(new RequestId(1), CancellationToken.None).Dispose(); // a source back in the pool
        var cancelled = requests.Begin(new RequestId(2), CancellationToken.None);
        requests.Cancel(Cancelled("""{"requestId":2}"""));
        cancelled.Dispose();
        using (var session = new CancellationTokenSource())
        {
            var ended = requests.Begin(new RequestId(3), session.Token);
            session.Cancel();
            ended.Dispose();
        }

        for (var i = 10; i < 110; i++)
        {
            using var next = requests.Begin(new RequestId(i), CancellationToken.None);
            Assert.False(next.Token.IsCancellationRequested);
        }
    }

    private static JsonRpcNotification Cancelled(string parameters) =>
        new() { Method = NotificationMethods.CancelledNotification, Params = JsonNode.Parse(parameters) };
}
