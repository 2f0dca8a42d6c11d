using System.Collections.Concurrent;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;
using McpServerless.VirtualServers;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The live downstream MCP sessions, grouped by the server or virtual server they were opened on (<see cref="Aggregate"/>
/// for the aggregated endpoint). Upstream notifications fan out to them (a resource's update only to the sessions
/// subscribed to it, which let go of their subscriptions as they end); an unregistered server's sessions, and on a
/// change of isolation the sessions holding private connections, are ended, and so are a deleted virtual server's.
/// A virtual server's sessions hear <c>tools/list_changed</c> when its definition changes or a member server's tools
/// do (connected, lost, re-listed), and the other notifications of its member servers that concern its members.
/// </summary>
public sealed partial class DownstreamSessions
{
    public const string Aggregate = "";

    private static readonly JsonRpcNotification ToolListChanged = new() { Method = NotificationMethods.ToolListChangedNotification };
    private static readonly JsonRpcNotification PromptListChanged = new() { Method = NotificationMethods.PromptListChangedNotification };
    private static readonly JsonRpcNotification ResourceListChanged = new() { Method = NotificationMethods.ResourceListChangedNotification };

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<McpServer, CancellationTokenSource>> _byName = new(StringComparer.Ordinal);

    private readonly IUpstreamLookup _upstreams;
    private readonly VirtualServerCatalog _virtualServers;
    private readonly ILogger _logger;

    public DownstreamSessions(IUpstreamLookup upstreams, VirtualServerCatalog virtualServers, ILogger<DownstreamSessions> logger)
    {
        _upstreams = upstreams;
        _virtualServers = virtualServers;
        _logger = logger;
        upstreams.Changed += OnChangedAsync;
        upstreams.Notified += OnNotifiedAsync;
        upstreams.ToolsChanged += OnToolsChanged;
        virtualServers.Changed += OnVirtualServerChanged;
    }

    public int CountOf(string name) => _byName.TryGetValue(name, out var sessions) ? sessions.Count : 0;

    public IEnumerable<KeyValuePair<string, int>> CountByName() =>
        _byName.Select(p => KeyValuePair.Create(p.Key, p.Value.Count));

    /// <summary>Runs one session until the client leaves or its server goes away.</summary>
    public async Task RunAsync(string name, McpServer server, CancellationToken cancellationToken)
    {
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sessions = _byName.GetOrAdd(name, static _ => new());
        sessions[server] = ending;
        try
        {
            await server.RunAsync(ending.Token);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
        }
        finally
        {
            sessions.TryRemove(server, out _);
            if (server.SessionId is { } id)
            {
                foreach (var connection in _upstreams.Connections) await connection.Subscriptions.ReleaseAllAsync(id);
            }
        }
    }

    private async ValueTask OnChangedAsync(UpstreamChange change)
    {
        // Sessions with a connection of their own hold the old definition: ending them makes their clients reopen on the new one.
        if (change.Removed || change.IsolationChanged) EndAll(change.Name);
        if (change.Removed) await BroadcastAsync(Aggregate, new JsonRpcNotification { Method = NotificationMethods.ToolListChangedNotification });
    }

    private async ValueTask OnNotifiedAsync(UpstreamConnection connection, JsonRpcNotification notification)
    {
        // An update goes to the sessions subscribed to its resource, the rest to every session that can see the server.
        Func<McpServer, bool>? to = null;
        if (notification.Method == NotificationMethods.ResourceUpdatedNotification)
        {
            if (notification.Params?["uri"].AsString() is not { } uri) return;
            to = server => server.SessionId is { } id && connection.Subscriptions.IsHeld(id, uri);
        }
        await BroadcastAsync(connection.Name, notification, to);
        await BroadcastAsync(Aggregate, notification, to);
        foreach (var plan in _virtualServers.Plans)
        {
            if (CountOf(plan.Name) > 0 && Concerns(plan, connection.Name, notification)) await BroadcastAsync(plan.Name, notification, to);
        }
    }

    /// <summary>Whether a member server's notification is news to a virtual server's sessions.</summary>
    private static bool Concerns(VirtualServerPlan plan, string server, JsonRpcNotification notification) => notification.Method switch
    {
        NotificationMethods.ToolListChangedNotification => false, // told through ToolsChanged, once the new list is in
        NotificationMethods.PromptListChangedNotification => plan.Selects(MemberKind.Prompt, server),
        NotificationMethods.ResourceListChangedNotification => plan.Selects(MemberKind.Resource, server),
        NotificationMethods.ResourceUpdatedNotification => notification.Params?["uri"].AsString() is { } uri && plan.RouteResource(uri) == server,
        _ => plan.Servers.Contains(server), // log messages
    };

    private void OnToolsChanged(UpstreamConnection connection)
    {
        foreach (var plan in _virtualServers.Plans)
        {
            if (plan.Selects(MemberKind.Tool, connection.Name) && CountOf(plan.Name) > 0) Post(plan.Name, ToolListChanged);
        }
    }

    // A deleted virtual server's sessions end, as an unregistered server's do; a changed one may show other members.
    private void OnVirtualServerChanged(string name)
    {
        if (!_virtualServers.TryGet(name, out var plan))
        {
            EndAll(name);
            return;
        }
        if (CountOf(name) == 0) return;
        Post(name, ToolListChanged);
        if (plan.SelectorsOf(MemberKind.Prompt).Count > 0) Post(name, PromptListChanged);
        if (plan.SelectorsOf(MemberKind.Resource).Count > 0) Post(name, ResourceListChanged);
    }

    // For events raised on paths that must not wait on sessions (a connection's supervisor, the catalog's reconcile loop).
    private void Post(string name, JsonRpcNotification notification) => _ = Task.Run(() => BroadcastAsync(name, notification).AsTask());

    private void EndAll(string name)
    {
        if (!_byName.TryGetValue(name, out var sessions)) return;
        foreach (var ending in sessions.Values)
        {
            try
            {
                ending.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async ValueTask BroadcastAsync(string name, JsonRpcNotification notification, Func<McpServer, bool>? to = null)
    {
        if (!_byName.TryGetValue(name, out var sessions)) return;
        foreach (var server in sessions.Keys)
        {
            if (to?.Invoke(server) == false) continue;
            try
            {
                await server.SendMessageAsync(new JsonRpcNotification { Method = notification.Method, Params = notification.Params?.DeepClone() });
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogBroadcastFailed(_logger, notification.Method, name, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not deliver {Method} to a session of {McpName}: {Error}")]
    private static partial void LogBroadcastFailed(ILogger logger, string method, string mcpName, string error);
}
