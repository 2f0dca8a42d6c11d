using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>Who hears what a connection has to tell: its status changed, or its upstream sent a notification every session should see.</summary>
public interface IUpstreamObserver
{
    /// <summary>Called after every status change (state, tools, health); must not block.</summary>
    void OnStatusChanged(UpstreamConnection connection);

    /// <summary>
    /// Called after the tools a caller can use through the connection changed: it connected (with its list), lost its
    /// session (no tools), or re-listed; must not block.
    /// </summary>
    void OnToolsChanged(UpstreamConnection connection)
    {
    }

    /// <summary>List changes, resource updates and log messages from the upstream.</summary>
    ValueTask OnNotificationAsync(UpstreamConnection connection, JsonRpcNotification notification);
}
