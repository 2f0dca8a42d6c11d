using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// <c>subscriptions/listen</c> for stateless (2026-07-28) callers of a server's endpoint. The stream is acknowledged with
/// what the upstream can deliver (each <c>list_changed</c> it offers; the listed resources when it is a session
/// upstream that supports <c>resources/subscribe</c>), then carries the upstream's matching notifications, tagged with
/// the listen request's id, until the caller closes it. A session upstream gets <c>resources/subscribe</c> for each
/// listened URI when the first listener asks for it and <c>resources/unsubscribe</c> when the last one leaves (counted
/// per upstream session). The stream ends with an error when the upstream connection is lost or replaced (its
/// subscriptions went with it): the caller listens again.
/// </summary>
internal sealed partial class ListenStreams
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;

    private readonly ConcurrentDictionary<Listener, byte> _listeners = new();
    // What each upstream session is subscribed to for listeners; gone with the session's client.
    private readonly ConditionalWeakTable<McpClient, UpstreamSubscriptions> _subscriptions = [];
    private readonly IUpstreamLookup _upstreams;
    private readonly ILogger _logger;

    public ListenStreams(IUpstreamLookup upstreams, ILogger<ListenStreams> logger)
    {
        _upstreams = upstreams;
        _logger = logger;
        upstreams.Notified += OnNotifiedAsync;
        upstreams.ToolsChanged += _ => EndStale();
        upstreams.Changed += _ =>
        {
            EndStale();
            return ValueTask.CompletedTask;
        };
    }

    /// <summary>Acknowledges, delivers and, when the caller closes the stream, releases one listen request.</summary>
    /// <exception cref="McpProtocolException">The params are not a listen filter, or the upstream refused a subscription.</exception>
    /// <exception cref="UpstreamException">The upstream is not connected, or its connection went away while listening.</exception>
    public async Task ListenAsync(UpstreamConnection upstream, McpServer server, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        var session = upstream.Session ?? throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{upstream.Name}' is not connected.");
        var listener = new Listener(upstream, session.Client, server, SubscriptionId(request.Id), Grant(Requested(request), session));
        var uris = listener.Granted.ResourceSubscriptions ?? [];
        var subscriptions = _subscriptions.GetValue(session.Client, static _ => new UpstreamSubscriptions());
        await subscriptions.AddAsync(upstream, uris, cancellationToken);
        try
        {
            await listener.SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification,
                JsonSerializer.SerializeToNode(new SubscriptionsAcknowledgedNotificationParams { Notifications = listener.Granted }, Json), cancellationToken);
            _listeners.TryAdd(listener, 0);
            LogListening(_logger, upstream.Name, uris.Count);
            try
            {
                await listener.Ended.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (IsStale(listener))
            {
                // An unregistered server's requests are cancelled as it goes (see DownstreamSessions): this one says why.
                throw Lost(listener);
            }
        }
        finally
        {
            _listeners.TryRemove(listener, out _);
            // The upstream keeps its subscriptions only while it is the same session.
            if (ReferenceEquals(upstream.Session?.Client, session.Client)) await subscriptions.RemoveAsync(upstream, uris, _logger);
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

    // Only what the upstream can deliver: resources/updated needs a session upstream that takes resources/subscribe.
    private static SubscriptionsListenNotifications Grant(SubscriptionsListenNotifications requested, UpstreamSession session)
    {
        var offered = session.Capabilities;
        var uris = requested.ResourceSubscriptions is { Count: > 0 } asked && !session.IsStateless && offered.Resources?.Subscribe == true
            ? asked.Distinct(StringComparer.Ordinal).ToList()
            : null;
        return new SubscriptionsListenNotifications
        {
            ToolsListChanged = requested.ToolsListChanged == true && offered.Tools?.ListChanged == true ? true : null,
            PromptsListChanged = requested.PromptsListChanged == true && offered.Prompts?.ListChanged == true ? true : null,
            ResourcesListChanged = requested.ResourcesListChanged == true && offered.Resources?.ListChanged == true ? true : null,
            ResourceSubscriptions = uris,
        };
    }

    private static JsonNode? SubscriptionId(RequestId id) => JsonSerializer.SerializeToNode(id, Json);

    private async ValueTask OnNotifiedAsync(UpstreamConnection connection, JsonRpcNotification notification)
    {
        foreach (var listener in _listeners.Keys)
        {
            if (!ReferenceEquals(listener.Upstream, connection) || !listener.Wants(notification)) continue;
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

    // A listener whose upstream connection was replaced or lost its session would hear nothing more: it is ended.
    private void EndStale()
    {
        foreach (var listener in _listeners.Keys)
        {
            if (IsStale(listener)) listener.Ended.TrySetException(Lost(listener));
        }
    }

    private bool IsStale(Listener listener) =>
        !_upstreams.TryGet(listener.Upstream.Name, out var connection) || !ReferenceEquals(connection, listener.Upstream)
        || !ReferenceEquals(connection.Session?.Client, listener.Client);

    private static UpstreamException Lost(Listener listener) =>
        new(UpstreamError.NotConnected, $"The connection to MCP server '{listener.Upstream.Name}' was lost or replaced; listen again.");

    [LoggerMessage(Level = LogLevel.Debug, Message = "A stateless caller listens to MCP server {McpName} ({Count} resource subscription(s))")]
    private static partial void LogListening(ILogger logger, string mcpName, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not deliver {Method} of MCP server {McpName} to a listen stream: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string method, string mcpName, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not unsubscribe MCP server {McpName} from a resource no one listens to: {Error}")]
    private static partial void LogUnsubscribeFailed(ILogger logger, string mcpName, string error);

    /// <summary>One open listen request: what it was granted, and the stream it is written to.</summary>
    private sealed class Listener(UpstreamConnection upstream, McpClient client, McpServer server, JsonNode? id, SubscriptionsListenNotifications granted)
    {
        private readonly HashSet<string> _uris = new(granted.ResourceSubscriptions ?? [], StringComparer.Ordinal);

        public UpstreamConnection Upstream => upstream;

        public McpClient Client => client;

        public SubscriptionsListenNotifications Granted => granted;

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Wants(JsonRpcNotification notification) => notification.Method switch
        {
            NotificationMethods.ToolListChangedNotification => granted.ToolsListChanged == true,
            NotificationMethods.PromptListChangedNotification => granted.PromptsListChanged == true,
            NotificationMethods.ResourceListChangedNotification => granted.ResourcesListChanged == true,
            NotificationMethods.ResourceUpdatedNotification => notification.Params?["uri"] is JsonValue uri && uri.TryGetValue<string>(out var text) && _uris.Contains(text),
            _ => false,
        };

        // Every message on the stream names the subscription, so a client with several streams on one channel can tell them apart.
        public Task SendAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
        {
            var tagged = parameters as JsonObject ?? [];
            var meta = tagged["_meta"] as JsonObject ?? [];
            meta[MetaKeys.SubscriptionId] = id?.DeepClone();
            tagged["_meta"] = meta;
            return server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = tagged }, cancellationToken);
        }
    }

    /// <summary>The resources one upstream session is subscribed to for listeners, with how many listen to each.</summary>
    private sealed class UpstreamSubscriptions
    {
        // Held across the upstream requests, so a subscribe and an unsubscribe of one URI cannot overtake each other.
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        public async Task AddAsync(UpstreamConnection upstream, IList<string> uris, CancellationToken cancellationToken)
        {
            if (uris.Count == 0) return;
            await _gate.WaitAsync(cancellationToken);
            var added = new List<string>();
            try
            {
                foreach (var uri in uris)
                {
                    if (_counts.GetValueOrDefault(uri) == 0)
                        await upstream.SendAsync(RequestMethods.ResourcesSubscribe, new JsonObject { ["uri"] = uri }, null, cancellationToken);
                    _counts[uri] = _counts.GetValueOrDefault(uri) + 1;
                    added.Add(uri);
                }
            }
            catch
            {
                foreach (var uri in added) _counts[uri]--; // left subscribed upstream: harmless, and taken again by the next listener
                throw;
            }
            finally
            {
                _gate.Release();
            }
        }

        public async Task RemoveAsync(UpstreamConnection upstream, IList<string> uris, ILogger logger)
        {
            if (uris.Count == 0) return;
            await _gate.WaitAsync();
            try
            {
                foreach (var uri in uris)
                {
                    if (--_counts[uri] > 0) continue;
                    _counts.Remove(uri);
                    try
                    {
                        await upstream.SendAsync(RequestMethods.ResourcesUnsubscribe, new JsonObject { ["uri"] = uri }, null, CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is McpProtocolException or UpstreamException)
                    {
                        LogUnsubscribeFailed(logger, upstream.Name, ex.Message);
                    }
                }
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
