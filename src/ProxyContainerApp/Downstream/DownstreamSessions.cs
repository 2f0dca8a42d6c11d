using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The live downstream MCP sessions, grouped by the upstream name they were opened on
/// (<see cref="Aggregate"/> for the aggregated endpoint), so upstream notifications can fan out and an
/// unregistered server's sessions can be ended.
/// </summary>
public sealed partial class DownstreamSessions(ILogger<DownstreamSessions> logger)
{
    public const string Aggregate = "";

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<McpServer, CancellationTokenSource>> _byName = new(StringComparer.Ordinal);

    public int Count => _byName.Values.Sum(s => s.Count);

    public int CountOf(string name) => _byName.TryGetValue(name, out var sessions) ? sessions.Count : 0;

    public IEnumerable<KeyValuePair<string, int>> CountByName() =>
        _byName.Select(p => KeyValuePair.Create(p.Key, p.Value.Count));

    /// <summary>Runs one session until the client leaves or <see cref="EndAll"/> ends it.</summary>
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

    public void EndAll(string name)
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

    public async ValueTask BroadcastAsync(string name, JsonRpcNotification notification)
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
                LogBroadcastFailed(logger, notification.Method, name, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not deliver {Method} to a session of {McpName}: {Error}")]
    private static partial void LogBroadcastFailed(ILogger logger, string method, string mcpName, string error);
}
