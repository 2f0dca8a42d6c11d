using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.TestMcpServer;

/// <summary>
/// Resource subscriptions of both revisions, counted so tests can see what reached this server: a 2025-11-25 session
/// subscribes with <c>resources/subscribe</c>, a 2026-07-28 caller names the resources on a <c>subscriptions/listen</c>
/// stream (this handler replaces the SDK's, which grants a stateless HTTP caller nothing, and grants only resource
/// subscriptions). The <c>touch</c> tool tells the subscribers of a resource that it changed: the session it was
/// called on, if subscribed, and every listen stream that asked for it.
/// </summary>
public static class TestSubscriptions
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;
    private static readonly ConcurrentDictionary<(string Session, string Uri), byte> Sessions = new();
    private static readonly ConcurrentDictionary<Listener, byte> Listeners = new();

    public static IMcpServerBuilder WithTestSubscriptions(this IMcpServerBuilder builder) => builder
        .WithSubscribeToResourcesHandler((request, _) =>
        {
            Sessions.TryAdd((SessionOf(request.Server), request.Params!.Uri), 0);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithUnsubscribeFromResourcesHandler((request, cancellationToken) =>
        {
            Sessions.TryRemove((SessionOf(request.Server), request.Params!.Uri), out _);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithSubscriptionsListenHandler(ListenAsync);

    /// <summary>Sends <c>notifications/resources/updated</c> to the subscribers of <paramref name="uri"/>; returns how many there were.</summary>
    public static async Task<int> TouchAsync(McpServer server, string uri, CancellationToken cancellationToken)
    {
        var notified = 0;
        if (Sessions.ContainsKey((SessionOf(server), uri)))
        {
            await server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new JsonObject { ["uri"] = uri }, cancellationToken: cancellationToken);
            notified++;
        }
        foreach (var listener in Listeners.Keys.Where(l => l.Uris.Contains(uri)))
        {
            await listener.SendAsync(NotificationMethods.ResourceUpdatedNotification, new JsonObject { ["uri"] = uri }, cancellationToken);
            notified++;
        }
        return notified;
    }

    private static async ValueTask<EmptyResult> ListenAsync(RequestContext<SubscriptionsListenRequestParams> request, CancellationToken cancellationToken)
    {
        var granted = new SubscriptionsListenNotifications { ResourceSubscriptions = request.Params!.Notifications.ResourceSubscriptions is { Count: > 0 } uris ? [.. uris] : null };
        var listener = new Listener(request.Server, JsonSerializer.SerializeToNode(request.JsonRpcRequest.Id, Json), [.. granted.ResourceSubscriptions ?? []]);
        await listener.SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification,
            JsonSerializer.SerializeToNode(new SubscriptionsAcknowledgedNotificationParams { Notifications = granted }, Json)!.AsObject(), cancellationToken);
        Listeners.TryAdd(listener, 0);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Listeners.TryRemove(listener, out _);
        }
        return new EmptyResult();
    }

    // Over stdio there is one session, which has no id.
    private static string SessionOf(McpServer server) => server.SessionId ?? "";

    /// <summary>One open listen stream: its request's server writes to it; every message names the subscription.</summary>
    private sealed record Listener(McpServer Server, JsonNode? Id, HashSet<string> Uris)
    {
        public Task SendAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
        {
            parameters["_meta"] = new JsonObject { [MetaKeys.SubscriptionId] = Id?.DeepClone() };
            return Server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = parameters }, cancellationToken);
        }
    }
}
