using System.Collections.Concurrent;
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
/// what the upstream can deliver (each <c>list_changed</c> it offers; the listed resources when it offers
/// subscriptions), then carries the upstream's matching notifications, tagged with the listen request's id, until the
/// caller closes it. The listened resources are held in the upstream's <see cref="ResourceSubscriptions"/>, with the
/// sessions' own subscriptions. The stream ends with an error when the upstream connection is lost or replaced: the
/// caller listens again.
/// </summary>
internal sealed partial class ListenStreams
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;

    private readonly ConcurrentDictionary<Listener, byte> _listeners = new();
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
        var granted = Grant(Requested(request), session);
        var listener = new Listener(upstream, session.Client, server, SubscriptionId(request.Id), granted);
        // Granted as far as the upstream grants them.
        var held = await upstream.Subscriptions.AddAsync(listener, [.. granted.ResourceSubscriptions ?? []], cancellationToken);
        granted.ResourceSubscriptions = held.Count > 0 ? [.. held] : null;
        try
        {
            await listener.SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification,
                JsonSerializer.SerializeToNode(new SubscriptionsAcknowledgedNotificationParams { Notifications = granted }, Json), cancellationToken);
            _listeners.TryAdd(listener, 0);
            LogListening(_logger, upstream.Name, held.Count);
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
            await upstream.Subscriptions.ReleaseAsync(listener, held);
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

    // Only what the upstream can deliver.
    private static SubscriptionsListenNotifications Grant(SubscriptionsListenNotifications requested, UpstreamSession session)
    {
        var offered = session.Capabilities;
        var uris = requested.ResourceSubscriptions is { Count: > 0 } asked && offered.Resources?.Subscribe == true
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

    /// <summary>One open listen request: what it was granted, and the stream it is written to.</summary>
    private sealed class Listener(UpstreamConnection upstream, McpClient client, McpServer server, JsonNode? id, SubscriptionsListenNotifications granted)
    {
        public UpstreamConnection Upstream => upstream;

        public McpClient Client => client;

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Wants(JsonRpcNotification notification) => notification.Method switch
        {
            NotificationMethods.ToolListChangedNotification => granted.ToolsListChanged == true,
            NotificationMethods.PromptListChangedNotification => granted.PromptsListChanged == true,
            NotificationMethods.ResourceListChangedNotification => granted.ResourcesListChanged == true,
            NotificationMethods.ResourceUpdatedNotification => notification.Params?["uri"] is JsonValue uri && uri.TryGetValue<string>(out var text) && upstream.Subscriptions.IsHeld(this, text),
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
}
