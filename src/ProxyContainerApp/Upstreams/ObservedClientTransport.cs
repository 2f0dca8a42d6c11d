using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Wraps an SDK client transport so <see cref="UpstreamConnection"/> sees each incoming message in the order the
/// upstream sent it, and may replace or drop it before the SDK does anything with it. The SDK dispatches messages
/// concurrently, so without this a response may overtake the progress notifications sent before it. The wrapper also
/// owns the inner transport and disposes it with the session.
/// </summary>
/// <param name="observe">Returns the message to pass on (the one given, or a replacement), or null to drop it.</param>
/// <param name="marksPosts">Whether each relayed call's POST is marked for its response stream (see <see cref="PostStreams"/>).</param>
internal sealed class ObservedClientTransport(IClientTransport inner, Func<JsonRpcMessage, JsonRpcMessage?> observe, bool marksPosts) : IClientTransport, IAsyncDisposable
{
    private readonly bool _marksPosts = marksPosts;

    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Session(await inner.ConnectAsync(cancellationToken), this, observe);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : default;

    private sealed class Session(ITransport session, ObservedClientTransport owner, Func<JsonRpcMessage, JsonRpcMessage?> observe) : ITransport
    {
        public string? SessionId => session.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader { get; } = new ObservedReader(session.MessageReader, observe);

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            ProxyInstruments.RequestSending(message);
            using var sending = owner._marksPosts ? PostStreams.MarkSending(message) : default;
            return session.SendMessageAsync(message, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await session.DisposeAsync();
            await owner.DisposeAsync();
        }
    }

    // The SDK's read loop calls TryRead in arrival order, before it hands each message to its own task.
    private sealed class ObservedReader(ChannelReader<JsonRpcMessage> reader, Func<JsonRpcMessage, JsonRpcMessage?> observe) : ChannelReader<JsonRpcMessage>
    {
        public override Task Completion => reader.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out JsonRpcMessage item)
        {
            while (reader.TryRead(out var read))
            {
                if (observe(read) is not { } passed) continue;
                item = passed;
                return true;
            }
            item = null;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => reader.WaitToReadAsync(cancellationToken);
    }
}
