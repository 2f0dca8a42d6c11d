using System.Collections.Concurrent;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>Requests being relayed for one session, so a client's <c>notifications/cancelled</c> reaches the upstream call.</summary>
internal sealed class InFlightRequests
{
    private readonly ConcurrentDictionary<RequestId, CancellationTokenSource> _calls = new();

    public Call Begin(RequestId id, CancellationToken sessionToken)
    {
        var cancellation = LinkedCancellation.Start(sessionToken, Timeout.InfiniteTimeSpan);
        _calls[id] = cancellation.Source;
        return new Call(this, id, cancellation);
    }

    public void Cancel(JsonRpcNotification cancelled)
    {
        var id = cancelled.Params?["requestId"];
        RequestId? requestId = id?.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => new RequestId(id.GetValue<string>()),
            System.Text.Json.JsonValueKind.Number => new RequestId(id.GetValue<long>()),
            _ => null,
        };
        // Taken out, so the call's end cannot pool the source while it is being cancelled.
        if (requestId is { } key && _calls.TryRemove(key, out var source)) source.Cancel();
    }

    public readonly struct Call(InFlightRequests owner, RequestId id, LinkedCancellation cancellation) : IDisposable
    {
        public CancellationToken Token => cancellation.Token;

        public void Dispose()
        {
            if (owner._calls.TryRemove(KeyValuePair.Create(id, cancellation.Source))) cancellation.Dispose();
            else cancellation.Abandon(); // cancelled by the client: it is not reused
        }
    }
}
