using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The upstream connections of their own that one session on a virtual server or the aggregate uses: one per
/// <c>isolateSessions</c> server it calls, opened on first use (its first request waits for it) and closed with the
/// session, so per-client state is never shared whichever endpoint a session came through. A server's definition
/// that changes gets a new connection on the next use; the old one is closed.
/// </summary>
internal sealed class SessionConnections(IUpstreamLookup upstreams, IUpstreamObserver session) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (UpstreamConnection Shared, UpstreamConnection Own)> _byServer = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>The connection a call to <paramref name="shared"/>'s server goes on: the session's own for an isolated server, once connected.</summary>
    /// <exception cref="UpstreamException">The session's own connection did not connect within the server's timeout.</exception>
    public async ValueTask<UpstreamConnection> ForAsync(UpstreamConnection shared, CancellationToken cancellationToken)
    {
        if (!shared.Model.Definition.IsolateSessions) return shared;
        var own = Open(shared);
        return await own.WaitConnectedAsync(own.Model.Timeout, cancellationToken) is null
            ? throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{shared.Name}' is not connected.")
            : own;
    }

    public async ValueTask DisposeAsync()
    {
        UpstreamConnection[] open;
        lock (_gate)
        {
            _disposed = true;
            open = [.. _byServer.Values.Select(p => p.Own)];
            _byServer.Clear();
        }
        foreach (var connection in open) await connection.DisposeAsync();
    }

    private UpstreamConnection Open(UpstreamConnection shared)
    {
        UpstreamConnection? replaced = null;
        UpstreamConnection own;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byServer.TryGetValue(shared.Name, out var pair) && ReferenceEquals(pair.Shared, shared)) return pair.Own;
            replaced = _byServer.TryGetValue(shared.Name, out pair) ? pair.Own : null;
            own = upstreams.OpenIsolated(shared, session);
            _byServer[shared.Name] = (shared, own);
        }
        if (replaced is not null) _ = replaced.DisposeAsync().AsTask();
        return own;
    }
}
