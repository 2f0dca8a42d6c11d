namespace McpServerless.Storage;

/// <summary>
/// Runs an asynchronous set-up (create a table, subscribe a channel) once, however many callers race for it.
/// Unlike a cached <c>Lazy&lt;Task&gt;</c>, a failed attempt is not remembered: the next caller tries again,
/// so a backend that was down at start is picked up once it is back.
/// </summary>
internal sealed class AsyncOnce(Func<CancellationToken, Task> setUp)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _done;

    public async ValueTask EnsureAsync(CancellationToken cancellationToken)
    {
        if (_done) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_done) return;
            await setUp(cancellationToken);
            _done = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets that the set-up ran, because what it made is gone (a table deleted under us).</summary>
    public void Reset() => _done = false;
}
