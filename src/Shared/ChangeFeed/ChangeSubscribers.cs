using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace McpServerless.ChangeFeed;

/// <summary>
/// The handlers one feed calls in this process, whatever carries the changes. A failing handler is logged
/// and does not keep the others from running.
/// </summary>
internal sealed partial class ChangeSubscribers(ILogger logger)
{
    private ImmutableArray<Func<RegistryChange, CancellationToken, ValueTask>> _handlers = [];

    public IAsyncDisposable Add(Func<RegistryChange, CancellationToken, ValueTask> handler)
    {
        ImmutableInterlocked.Update(ref _handlers, static (list, h) => list.Add(h), handler);
        return new Subscription(this, handler);
    }

    /// <summary>Adds the handler, then waits for the feed to listen (<paramref name="listen"/>); when that throws, the handler is removed again.</summary>
    public async ValueTask<IAsyncDisposable> AddListeningAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, Func<CancellationToken, ValueTask> listen, CancellationToken cancellationToken)
    {
        var subscription = Add(handler);
        try
        {
            await listen(cancellationToken);
        }
        catch
        {
            await subscription.DisposeAsync();
            throw;
        }
        return subscription;
    }

    public async ValueTask DeliverAsync(RegistryChange change, CancellationToken cancellationToken)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "A registry change handler failed for {McpName} ({Kind})")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string mcpName, RegistryChangeKind kind);

    private sealed class Subscription(ChangeSubscribers subscribers, Func<RegistryChange, CancellationToken, ValueTask> handler) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            ImmutableInterlocked.Update(ref subscribers._handlers, static (list, h) => list.Remove(h), handler);
            return ValueTask.CompletedTask;
        }
    }
}
