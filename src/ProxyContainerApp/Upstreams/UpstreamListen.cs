using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Change notifications from a 2026-07-28 upstream. That revision sends <c>list_changed</c> only on a
/// <c>subscriptions/listen</c> stream, for which SDK 2.4.0's client has no API (its <c>SubscribeToResourceAsync</c>
/// sends <c>resources/subscribe</c>, which the revision removed). So the supervisor keeps one raw listen request open
/// per connection, for the list changes the upstream offers; its notifications reach the client's notification
/// handlers, and from there the gateway's tool list and the downstream sessions, as a session upstream's would.
/// </summary>
internal static partial class UpstreamListen
{
    private const string Method = "subscriptions/listen";
    private static readonly TimeSpan ReopenDelay = TimeSpan.FromSeconds(5);

    /// <summary>Listens until <paramref name="stopping"/>; reopens a stream the upstream ended. Returns at once when it offers no list changes.</summary>
    public static async Task RunAsync(UpstreamConnection connection, UpstreamSession session, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        if (Filter(session.Capabilities) is not { } filter) return;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await session.Client.SendRequestAsync(new JsonRpcRequest { Method = Method, Params = new JsonObject { ["notifications"] = filter.DeepClone() } }, stopping);
                LogEnded(logger, connection.Name, "the upstream ended it");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogEnded(logger, connection.Name, UpstreamFailures.Describe(connection, ex)!);
            }
            await Task.Delay(ReopenDelay, time, stopping);
        }
    }

    private static JsonObject? Filter(ServerCapabilities offered)
    {
        var filter = new JsonObject();
        if (offered.Tools?.ListChanged == true) filter["toolsListChanged"] = true;
        if (offered.Prompts?.ListChanged == true) filter["promptsListChanged"] = true;
        if (offered.Resources?.ListChanged == true) filter["resourcesListChanged"] = true;
        return filter.Count == 0 ? null : filter;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The subscriptions/listen stream of MCP server {McpName} ended ({Reason}); it is reopened shortly")]
    private static partial void LogEnded(ILogger logger, string mcpName, string reason);
}
