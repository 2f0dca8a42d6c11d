namespace McpServerless.Proxy.Upstreams.Auth;

/// <summary>A token and when it stops being good.</summary>
public readonly record struct UpstreamToken(string Value, DateTimeOffset ExpiresOn);

/// <summary>
/// The bearer token the gateway presents to one upstream (<c>upstreamAuth</c>), cached and fetched again before it
/// expires: once a token has lived half its life, or is within five minutes of expiry, the next request fetches a new
/// one, so no request goes out with a token about to lapse. Concurrent requests share one fetch; a request finds a
/// fresh token without taking a lock.
/// </summary>
public abstract class UpstreamTokenSource(TimeProvider time)
{
    private static readonly TimeSpan MaxRefreshLead = TimeSpan.FromMinutes(5);

    private readonly Lock _fetching = new();
    private volatile Cached? _cached;
    private Task<Cached>? _fetch;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var cached = _cached;
        if (cached is not null && time.GetUtcNow() < cached.RefreshAt) return cached.Token.Value;
        return (await RefreshAsync(cached).WaitAsync(cancellationToken)).Token.Value;
    }

    /// <summary>Forgets the cached token (the upstream refused it), so the next request fetches another.</summary>
    public void Invalidate(string refused)
    {
        var cached = _cached;
        if (cached is not null && cached.Token.Value == refused) _cached = null;
    }

    /// <summary>Asks the credential's issuer for a new token.</summary>
    protected abstract Task<UpstreamToken> FetchAsync(CancellationToken cancellationToken);

    private Task<Cached> RefreshAsync(Cached? stale)
    {
        lock (_fetching)
        {
            if (_cached != stale && _cached is { } newer && time.GetUtcNow() < newer.RefreshAt) return Task.FromResult(newer);
            return _fetch ??= FetchAndCacheAsync();
        }
    }

    // Not tied to one caller's cancellation: the fetch serves every request waiting for it.
    private async Task<Cached> FetchAndCacheAsync()
    {
        await Task.Yield(); // never completes inside the lock that stores it
        try
        {
            var token = await FetchAsync(CancellationToken.None);
            var now = time.GetUtcNow();
            var lifetime = token.ExpiresOn - now;
            var lead = lifetime / 2 < MaxRefreshLead ? lifetime / 2 : MaxRefreshLead;
            var cached = new Cached(token, token.ExpiresOn - lead);
            _cached = cached;
            return cached;
        }
        finally
        {
            lock (_fetching) _fetch = null;
        }
    }

    private sealed record Cached(UpstreamToken Token, DateTimeOffset RefreshAt);
}
