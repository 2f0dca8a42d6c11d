using McpServerless.Model;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// A connection's live state, replaced whole on every change so readers see one consistent picture without a lock.
/// Connected means exactly: a <see cref="Session"/> is present (only <see cref="Connected"/> makes one).
/// </summary>
internal sealed record UpstreamState(
    ConnectionState State, UpstreamSession? Session, string? LastError, DateTimeOffset? ConnectedSince,
    int ReconnectAttempts, DateTimeOffset? LastHealthCheck, bool? Healthy)
{
    public static readonly UpstreamState Initial = new(ConnectionState.Disconnected, null, null, null, 0, null, null);

    public UpstreamState Connected(UpstreamSession session, DateTimeOffset now) =>
        new(ConnectionState.Connected, session, null, now, 0, LastHealthCheck, true);

    /// <summary>Any state but connected: the session is gone.</summary>
    public UpstreamState Without(ConnectionState state, string? error) =>
        this with { State = state, Session = null, LastError = error, ConnectedSince = null };
}
