using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace McpServerless.ChangeFeed;

/// <summary>The single-instance feed: publishing calls every subscriber of this process directly.</summary>
public sealed partial class InProcessChangeFeed(ILogger<InProcessChangeFeed> logger) : IRegistryChangeFeed
{
    private ImmutableArray<Func<RegistryChange, CancellationToken, ValueTask>> _handlers = [];

    public async ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default)
    {
        foreach (var handler in _handlers)
        {
            try
            {
                await handler(change, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogHandlerFailed(logger, ex, change.Name, change.Kind);
            }
        }
    }

    public ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ImmutableInterlocked.Update(ref _handlers, static (list, h) => list.Add(h), handler);
        return ValueTask.FromResult<IAsyncDisposable>(new Subscription(this, handler));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A registry change handler failed for {McpName} ({Kind})")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string mcpName, RegistryChangeKind kind);

    private sealed class Subscription(InProcessChangeFeed feed, Func<RegistryChange, CancellationToken, ValueTask> handler) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            ImmutableInterlocked.Update(ref feed._handlers, static (list, h) => list.Remove(h), handler);
            return ValueTask.CompletedTask;
        }
    }
}
