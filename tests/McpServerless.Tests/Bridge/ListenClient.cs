using System.Text.Json.Nodes;
using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// A client's <c>subscriptions/listen</c> and what it hears, as the tests use them. SDK 2.4.0's client has no listen
/// API: the request is sent raw, and its notifications reach the client's notification handlers.
/// </summary>
internal static class ListenClient
{
    /// <summary>Opens a listen stream for <paramref name="resource"/>'s updates (and tool list changes when asked); completes when the stream ends.</summary>
    public static Task<JsonRpcResponse> ListenAsync(this McpClient client, string resource, CancellationToken cancellationToken, bool toolsListChanged = false)
    {
        var notifications = new JsonObject { ["resourceSubscriptions"] = new JsonArray(resource) };
        if (toolsListChanged) notifications["toolsListChanged"] = true;
        return client.SendRequestAsync(new JsonRpcRequest
        {
            Method = RequestMethods.SubscriptionsListen,
            Params = new JsonObject { ["notifications"] = notifications },
        }, cancellationToken);
    }

    /// <summary>The listen acknowledgements and resource updates the client hears, and the notifications of <paramref name="also"/>, in order.</summary>
    public static Channel<JsonRpcNotification> Heard(this McpClient client, params string[] also)
    {
        var heard = Channel.CreateUnbounded<JsonRpcNotification>();
        foreach (var method in new[] { NotificationMethods.SubscriptionsAcknowledgedNotification, NotificationMethods.ResourceUpdatedNotification }.Concat(also))
        {
            client.RegisterNotificationHandler(method, (notification, _) =>
            {
                heard.Writer.TryWrite(notification);
                return ValueTask.CompletedTask;
            });
        }
        return heard;
    }

    /// <summary>The URIs of the resource updates the client hears, in order.</summary>
    public static Channel<string> UpdatedUris(this McpClient client)
    {
        var heard = Channel.CreateUnbounded<string>();
        client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (notification, _) =>
        {
            heard.Writer.TryWrite(notification.Params!["uri"]!.GetValue<string>());
            return ValueTask.CompletedTask;
        });
        return heard;
    }

    public static async Task<T> NextAsync<T>(this Channel<T> heard) => await heard.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
}
