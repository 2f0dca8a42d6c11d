using System.Collections.Concurrent;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// A cancellation source linked to an outer token, optionally with a deadline, taken from a pool. Each relayed call
/// needs two (its in-flight entry, which a client's <c>notifications/cancelled</c> reaches, and its upstream deadline);
/// new ones each time, one of them with a timer, cost several hundred bytes per call. A source goes back
/// to the pool only if it was never cancelled and its timer never fired (<see cref="CancellationTokenSource.TryReset"/>),
/// the pattern of YARP's and Kestrel's own pools.
/// </summary>
internal readonly struct LinkedCancellation : IDisposable
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<CancellationTokenSource> s_pool = new();
    private static int s_pooled;

    private readonly CancellationTokenRegistration _link;

    private LinkedCancellation(CancellationTokenSource source, CancellationTokenRegistration link)
    {
        Source = source;
        _link = link;
    }

    /// <summary>The source itself, for whoever must cancel it by hand.</summary>
    public CancellationTokenSource Source { get; }

    public CancellationToken Token => Source.Token;

    public bool IsCancellationRequested => Source.IsCancellationRequested;

    /// <summary>A source cancelled when <paramref name="outer"/> is, or when <paramref name="timeout"/> (if finite) has passed.</summary>
    public static LinkedCancellation Start(CancellationToken outer, TimeSpan timeout)
    {
        CancellationTokenSource? source;
        if (s_pool.TryDequeue(out source)) Interlocked.Decrement(ref s_pooled);
        else source = new CancellationTokenSource();
        if (timeout != Timeout.InfiniteTimeSpan) source.CancelAfter(timeout);
        return new(source, outer.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source));
    }

    /// <summary>Unlinks the source and returns it to the pool; nobody may use it or its token afterwards.</summary>
    public void Dispose()
    {
        _link.Dispose(); // waits for a link callback already running, so none runs after the reset
        if (Source.TryReset())
        {
            if (Interlocked.Increment(ref s_pooled) <= MaxPooled)
            {
                s_pool.Enqueue(Source);
                return;
            }
            Interlocked.Decrement(ref s_pooled);
        }
        Source.Dispose();
    }

    /// <summary>Unlinks the source without pooling or disposing it, because someone else may still cancel it (the garbage collector takes it).</summary>
    public void Abandon() => _link.Dispose();
}
