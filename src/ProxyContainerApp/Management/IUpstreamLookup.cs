using McpServerless.Proxy.Upstreams;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Management;

/// <summary>What the downstream side needs of the managed connections: find them, hear what happens to them, and open a private one.</summary>
public interface IUpstreamLookup
{
    bool TryGet(string name, out UpstreamConnection connection);

    IEnumerable<UpstreamConnection> Connections { get; }

    /// <summary>A server's connection was replaced by a new version's, or removed (the server was unregistered).</summary>
    event Func<UpstreamChange, ValueTask>? Changed;

    /// <summary>A managed connection's upstream sent a notification every session of that server should see.</summary>
    event Func<UpstreamConnection, JsonRpcNotification, ValueTask>? Notified;

    /// <summary>
    /// The tools a managed connection offers changed: it connected (a new server, or after an outage), lost its session,
    /// or re-listed after the upstream's <c>tools/list_changed</c>. Raised on the connection's own path: handlers must not block.
    /// </summary>
    event Action<UpstreamConnection>? ToolsChanged;

    /// <summary>
    /// Opens a private connection to <paramref name="shared"/>'s server for one downstream session (<c>isolateSessions</c>):
    /// the caller owns it and <paramref name="observer"/> hears its notifications; it is not reported to the store.
    /// </summary>
    UpstreamConnection OpenIsolated(UpstreamConnection shared, IUpstreamObserver observer);
}

/// <summary>What happened to a server's connection: <see cref="Removed"/>, or replaced by one of another definition.</summary>
/// <param name="IsolationChanged">The old or the new definition isolates sessions, whose private connections now hold a stale definition.</param>
public readonly record struct UpstreamChange(string Name, bool Removed, bool IsolationChanged);
