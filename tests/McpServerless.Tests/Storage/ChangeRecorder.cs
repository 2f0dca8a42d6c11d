using System.Threading.Channels;
using McpServerless.ChangeFeed;

namespace McpServerless.Tests.Storage;

/// <summary>A change-feed handler that keeps what it receives, for tests to wait on.</summary>
internal sealed class ChangeRecorder
{
    private readonly Channel<RegistryChange> _received = Channel.CreateUnbounded<RegistryChange>();

    public List<RegistryChange> Received { get; } = [];

    public ValueTask HandleAsync(RegistryChange change, CancellationToken cancellationToken)
    {
        lock (Received) Received.Add(change);
        return _received.Writer.WriteAsync(change, cancellationToken);
    }

    /// <summary>The next change received, or a timeout failure.</summary>
    public async Task<RegistryChange> NextAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(cancellation.Token);
    }
}
