using System.Collections.Concurrent;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The live downstream MCP sessions, grouped by the server they were opened on (<see cref="Aggregate"/> for the
/// aggregated endpoint). Upstream notifications fan out to them; an unregistered server's sessions, and on a change of
/// isolation the sessions holding private connections, are ended.
/// </summary>
public sealed partial class DownstreamSessions
{
    public const string Aggregate = "";

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<McpServer, CancellationTokenSource>> _byName = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public DownstreamSessions(IUpstreamLookup upstreams, ILogger<DownstreamSessions> logger)
    {
        _logger = logger;
        upstreams.Changed += OnChangedAsync;
        upstreams.Notified += OnNotifiedAsync;
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
        await BroadcastAsync(connection.Name, notification);
        await BroadcastAsync(Aggregate, notification);
    }

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

    private async ValueTask BroadcastAsync(string name, JsonRpcNotification notification)
    {
        if (!_byName.TryGetValue(name, out var sessions)) return;
        foreach (var server in sessions.Keys)
        {
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
