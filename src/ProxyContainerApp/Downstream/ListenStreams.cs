using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;
using McpServerless.VirtualServers;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// <c>subscriptions/listen</c> for stateless (2026-07-28) callers of any endpoint: a server's, a virtual server's or the
/// aggregated one, whose <see cref="ListenScope"/> says which upstreams it shows. The stream is acknowledged with what
/// those upstreams can deliver (each <c>list_changed</c> one of them offers; the listed resources whose upstream offers
/// subscriptions, as far as it grants them), then carries their matching notifications, tagged with the listen
/// request's id, until the caller closes it. The listened resources are held in each upstream's
/// <see cref="ResourceSubscriptions"/>, with the sessions' own subscriptions. The stream ends with an error when an
/// upstream behind it is lost, replaced, added or removed: the caller listens again, and hears the new set.
/// </summary>
internal sealed partial class ListenStreams
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;

    private readonly ConcurrentDictionary<Listener, byte> _listeners = new();
    private readonly ILogger _logger;

    public ListenStreams(IUpstreamLookup upstreams, VirtualServerCatalog virtualServers, ILogger<ListenStreams> logger)
    {
        _logger = logger;
        upstreams.Notified += OnNotifiedAsync;
        upstreams.ToolsChanged += _ => EndStale();
        upstreams.Changed += _ =>
        {
            EndStale();
            return ValueTask.CompletedTask;
        };
        virtualServers.Changed += _ => EndStale();
    }

    /// <summary>Acknowledges, delivers and, when the caller closes the stream, releases one listen request.</summary>
    /// <exception cref="McpProtocolException">The params are not a listen filter, or an upstream refused a subscription.</exception>
    /// <exception cref="UpstreamException">No upstream behind the endpoint is connected, or what is behind it changed while listening.</exception>
    public async Task ListenAsync(ListenScope scope, McpServer server, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        var requested = Requested(request);
        Source[] sources = [.. (scope.Sources() ?? []).Where(c => c.Session is not null).Select(c => new Source(c, c.Session!))];
        if (sources.Length == 0) throw new UpstreamException(UpstreamError.NotConnected, $"No upstream behind {scope.Endpoint} is connected.");
        var granted = Grant(requested, scope, sources);
        var listener = new Listener(scope, sources, server, SubscriptionId(request.Id), granted);
        var held = new List<string>();
        try
        {
            // Each resource is held on the upstream it belongs to, as far as that upstream grants it.
            foreach (var routed in (requested.ResourceSubscriptions ?? []).Distinct(StringComparer.Ordinal)
                .Select(uri => (Uri: uri, Upstream: scope.RouteResource(uri)))
                .Where(r => r.Upstream is { } upstream && sources.Any(s => ReferenceEquals(s.Connection, upstream) && s.Session.Capabilities.Resources?.Subscribe == true))
                .GroupBy(r => r.Upstream!))
            {
                held.AddRange(await routed.Key.Subscriptions.AddAsync(listener, [.. routed.Select(r => r.Uri)], cancellationToken));
            }
            granted.ResourceSubscriptions = held.Count > 0 ? held : null;
            await listener.SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification,
                JsonSerializer.SerializeToNode(new SubscriptionsAcknowledgedNotificationParams { Notifications = granted }, Json), cancellationToken);
            _listeners.TryAdd(listener, 0);
            LogListening(_logger, scope.Endpoint, sources.Length, held.Count);
            try
            {
                await listener.Ended.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (listener.IsStale())
            {
                // An unregistered server's requests are cancelled as it goes (see DownstreamSessions): this one says why.
                throw Lost(listener);
            }
        }
        finally
        {
            _listeners.TryRemove(listener, out _);
            foreach (var source in sources) await source.Connection.Subscriptions.ReleaseAllAsync(listener);
        }
    }

    private static SubscriptionsListenNotifications Requested(JsonRpcRequest request)
    {
        try
        {
            return request.Params?.Deserialize<SubscriptionsListenRequestParams>(Json)?.Notifications
                ?? throw new McpProtocolException("subscriptions/listen needs params.notifications.", McpErrorCode.InvalidParams);
        }
        catch (JsonException ex)
        {
            throw new McpProtocolException($"subscriptions/listen params are malformed: {ex.Message}", McpErrorCode.InvalidParams);
        }
    }

    // The list changes one of the upstreams can deliver; resource subscriptions are granted as they are held.
    private static SubscriptionsListenNotifications Grant(SubscriptionsListenNotifications requested, ListenScope scope, Source[] sources)
    {
        bool Offered(MemberKind kind, Func<ServerCapabilities, bool> offers) =>
            sources.Any(s => scope.Shows(s.Connection.Name, kind) && offers(s.Session.Capabilities));
        return new SubscriptionsListenNotifications
        {
            ToolsListChanged = requested.ToolsListChanged == true && Offered(MemberKind.Tool, c => c.Tools?.ListChanged == true) ? true : null,
            PromptsListChanged = requested.PromptsListChanged == true && Offered(MemberKind.Prompt, c => c.Prompts?.ListChanged == true) ? true : null,
            ResourcesListChanged = requested.ResourcesListChanged == true && Offered(MemberKind.Resource, c => c.Resources?.ListChanged == true) ? true : null,
        };
    }

    private static JsonNode? SubscriptionId(RequestId id) => JsonSerializer.SerializeToNode(id, Json);

    private async ValueTask OnNotifiedAsync(UpstreamConnection connection, JsonRpcNotification notification)
    {
        foreach (var listener in _listeners.Keys)
        {
            if (!listener.Wants(connection, notification)) continue;
            try
            {
                await listener.SendAsync(notification.Method, notification.Params?.DeepClone(), CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogDeliveryFailed(_logger, notification.Method, connection.Name, ex.Message);
            }
        }
    }

    // A listener whose upstreams changed would hear too little or too much: it is ended, to listen again.
    private void EndStale()
    {
        foreach (var listener in _listeners.Keys)
        {
            if (listener.IsStale()) listener.Ended.TrySetException(Lost(listener));
        }
    }

    private static UpstreamException Lost(Listener listener) =>
        new(UpstreamError.NotConnected, $"The upstreams behind {listener.Scope.Endpoint} changed (one was lost, replaced, added or removed); listen again.");

    [LoggerMessage(Level = LogLevel.Debug, Message = "A stateless caller listens to {Endpoint} ({Upstreams} upstream(s), {Count} resource subscription(s))")]
    private static partial void LogListening(ILogger logger, string endpoint, int upstreams, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not deliver {Method} of MCP server {McpName} to a listen stream: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string method, string mcpName, string error);

    /// <summary>An upstream a listener hears, with the session it heard it on.</summary>
    private readonly record struct Source(UpstreamConnection Connection, UpstreamSession Session);

    /// <summary>One open listen request: what it was granted, from which upstreams, and the stream it is written to.</summary>
    private sealed class Listener(ListenScope scope, Source[] sources, McpServer server, JsonNode? id, SubscriptionsListenNotifications granted)
    {
        public ListenScope Scope => scope;

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Wants(UpstreamConnection connection, JsonRpcNotification notification) =>
            sources.Any(s => ReferenceEquals(s.Connection, connection)) && notification.Method switch
            {
                NotificationMethods.ToolListChangedNotification => granted.ToolsListChanged == true && scope.Shows(connection.Name, MemberKind.Tool),
                NotificationMethods.PromptListChangedNotification => granted.PromptsListChanged == true && scope.Shows(connection.Name, MemberKind.Prompt),
                NotificationMethods.ResourceListChangedNotification => granted.ResourcesListChanged == true && scope.Shows(connection.Name, MemberKind.Resource),
                NotificationMethods.ResourceUpdatedNotification => notification.Params?["uri"].AsString() is { } uri && connection.Subscriptions.IsHeld(this, uri),
                _ => false,
            };

        /// <summary>Whether the endpoint now shows other upstreams, or other sessions of them, than it was heard on.</summary>
        public bool IsStale()
        {
            if (scope.Sources() is not { } now) return true;
            var connected = now.Where(c => c.Session is not null).ToList();
            return connected.Count != sources.Length
                || !sources.All(s => connected.Any(c => ReferenceEquals(c, s.Connection) && ReferenceEquals(c.Session?.Client, s.Session.Client)));
        }

        // Every message on the stream names the subscription, so a client with several streams on one channel can tell them apart.
        public Task SendAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
        {
            var tagged = parameters as JsonObject ?? [];
            tagged.SetMeta(MetaKeys.SubscriptionId, id?.DeepClone());
            return server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = tagged }, cancellationToken);
        }
    }
}
