using Microsoft.Extensions.Logging;

namespace McpServerless.ChangeFeed;

/// <summary>The single-instance feed: publishing calls every subscriber of this process directly.</summary>
public sealed class InProcessChangeFeed(ILogger<InProcessChangeFeed> logger) : IRegistryChangeFeed
{
    private readonly ChangeSubscribers _subscribers = new(logger);

    public ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default) =>
        _subscribers.DeliverAsync(change, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_subscribers.Add(handler));
}
