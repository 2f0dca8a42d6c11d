using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// The <c>subscriptions/listen</c> stream the gateway holds open on a 2026-07-28 upstream, which sends change
/// notifications only there: for the list changes it offers, and for the resources someone holds a subscription to
/// (<see cref="ResourceSubscriptions"/>). SDK 2.4.0's client has no listen API (its <c>SubscribeToResourceAsync</c>
/// sends <c>resources/subscribe</c>, which the revision removed), so the request is sent raw; its notifications reach
/// the client's notification handlers, and from there the downstream sessions, as a session upstream's would.
/// A listen filter cannot be changed, so a new subscription opens a new stream, and the old one is closed once the
/// upstream has acknowledged the new one: no update is lost in between, and one sent in that moment may come twice.
/// A stream the upstream ends is reopened shortly.
/// </summary>
internal sealed partial class UpstreamListen(UpstreamConnection connection, McpClient client, ServerCapabilities offered)
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;
    private static readonly TimeSpan ReopenDelay = TimeSpan.FromSeconds(5);

    // Renewals asked for since the stream was last opened: the next stream answers them all.
    private readonly Channel<TaskCompletionSource<SubscriptionsListenNotifications>> _renewals =
        Channel.CreateUnbounded<TaskCompletionSource<SubscriptionsListenNotifications>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<SubscriptionsListenNotifications>> _acknowledging = new(StringComparer.Ordinal);
    // Streams opened and not yet replaced: a notification tagged with another one's id is a replaced stream's echo.
    private readonly ConcurrentDictionary<string, byte> _live = new(StringComparer.Ordinal);
    private long _opened;

    /// <summary>Holds the stream open until <paramref name="stopping"/>, opening a new one when renewed or ended.</summary>
    public async Task RunAsync(TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        Stream? current = null;
        var waiting = new List<TaskCompletionSource<SubscriptionsListenNotifications>>();
        try
        {
            while (true)
            {
                stopping.ThrowIfCancellationRequested();
                while (_renewals.Reader.TryRead(out var renewal)) waiting.Add(renewal);
                var failed = false;
                try
                {
                    var next = await OpenAsync(stopping);
                    current?.Close(this);
                    current = next;
                    foreach (var renewal in waiting) renewal.TrySetResult(current?.Granted ?? new());
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    failed = true;
                    LogEnded(logger, connection.Name, UpstreamFailures.Describe(connection, ex)!);
                    foreach (var renewal in waiting) renewal.TrySetException(ex);
                }
                waiting.Clear();

                var renewed = _renewals.Reader.WaitToReadAsync(stopping).AsTask();
                if (current is not null)
                {
                    if (await Task.WhenAny(renewed, current.Completion) == renewed) continue;
                    LogEnded(logger, connection.Name, UpstreamFailures.Describe(connection, current.Completion.Exception?.InnerException) ?? "the upstream ended it");
                    current.Close(this);
                    current = null;
                }
                else if (!failed)
                {
                    await renewed; // nothing to listen to until someone subscribes
                    continue;
                }
                await Task.WhenAny(renewed, Task.Delay(ReopenDelay, time, stopping));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _renewals.Writer.TryComplete();
            current?.Close(this);
            while (_renewals.Reader.TryRead(out var renewal)) waiting.Add(renewal);
            foreach (var renewal in waiting) renewal.TrySetCanceled(stopping);
        }
    }

    /// <summary>
    /// Opens a stream with the subscriptions held now and returns what the upstream granted on it, once it has
    /// acknowledged it (within the server's timeout).
    /// </summary>
    public async Task<SubscriptionsListenNotifications> RenewAsync(CancellationToken cancellationToken)
    {
        var renewal = new TaskCompletionSource<SubscriptionsListenNotifications>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_renewals.Writer.TryWrite(renewal))
            throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{connection.Name}' is not connected.");
        try
        {
            return await renewal.Task.WaitAsync(connection.Model.Timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new UpstreamException(UpstreamError.Timeout, $"MCP server '{connection.Name}' did not acknowledge a subscriptions/listen request within {connection.Model.Timeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Takes the upstream's <c>notifications/subscriptions/acknowledged</c>: what it granted on a stream.</summary>
    public void Acknowledged(JsonRpcNotification notification)
    {
        if (SubscriptionOf(notification) is not { } id || !_acknowledging.TryRemove(id, out var acknowledging)) return;
        var granted = notification.Params?["notifications"] is JsonObject notifications
            ? notifications.Deserialize<SubscriptionsListenNotifications>(Json) ?? new()
            : new();
        acknowledging.TrySetResult(granted);
    }

    /// <summary>Whether a notification is news: not one a replaced stream still carried (its open successor carries it too).</summary>
    public bool Accepts(JsonRpcNotification notification) => SubscriptionOf(notification) is not { } id || _live.ContainsKey(id);

    private async Task<Stream?> OpenAsync(CancellationToken stopping)
    {
        if (Filter(offered, connection.Subscriptions.Uris) is not { } filter) return null;
        var id = $"gateway-listen-{Interlocked.Increment(ref _opened)}";
        var acknowledged = new TaskCompletionSource<SubscriptionsListenNotifications>(TaskCreationOptions.RunContinuationsAsynchronously);
        _acknowledging[id] = acknowledged;
        _live[id] = 0;
        var stream = new Stream(id, CancellationTokenSource.CreateLinkedTokenSource(stopping));
        stream.Completion = client.SendRequestAsync(
            new JsonRpcRequest { Id = new RequestId(id), Method = RequestMethods.SubscriptionsListen, Params = new JsonObject { ["notifications"] = filter } },
            stream.Closing.Token);
        try
        {
            var first = await Task.WhenAny(acknowledged.Task, stream.Completion).WaitAsync(connection.Model.Timeout, stopping);
            if (first != acknowledged.Task)
            {
                await stream.Completion; // throws the upstream's refusal
                throw new UpstreamException(UpstreamError.Failed, $"MCP server '{connection.Name}' ended a subscriptions/listen stream before acknowledging it.");
            }
            stream.Granted = await acknowledged.Task;
            return stream;
        }
        catch
        {
            stream.Close(this);
            throw;
        }
        finally
        {
            _acknowledging.TryRemove(id, out _);
        }
    }

    private static JsonObject? Filter(ServerCapabilities offered, IReadOnlyCollection<string> uris)
    {
        var filter = new JsonObject();
        if (offered.Tools?.ListChanged == true) filter["toolsListChanged"] = true;
        if (offered.Prompts?.ListChanged == true) filter["promptsListChanged"] = true;
        if (offered.Resources?.ListChanged == true) filter["resourcesListChanged"] = true;
        if (uris.Count > 0) filter["resourceSubscriptions"] = new JsonArray([.. uris.Select(uri => JsonValue.Create(uri))]);
        return filter.Count == 0 ? null : filter;
    }

    private static string? SubscriptionOf(JsonRpcNotification notification) =>
        notification.Params?["_meta"]?[MetaKeys.SubscriptionId] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;

    [LoggerMessage(Level = LogLevel.Debug, Message = "The subscriptions/listen stream of MCP server {McpName} ended ({Reason}); it is reopened shortly")]
    private static partial void LogEnded(ILogger logger, string mcpName, string reason);

    /// <summary>One listen request: closing it cancels it, which ends the upstream's stream.</summary>
    private sealed class Stream(string id, CancellationTokenSource closing)
    {
        public CancellationTokenSource Closing => closing;

        public Task Completion { get; set; } = Task.CompletedTask;

        public SubscriptionsListenNotifications Granted { get; set; } = new();

        public void Close(UpstreamListen listen)
        {
            listen._live.TryRemove(id, out _);
            closing.Cancel();
            closing.Dispose();
            _ = Completion.ContinueWith(static ended => ended.Exception, TaskContinuationOptions.OnlyOnFaulted); // its cancellation is expected
        }
    }
}
