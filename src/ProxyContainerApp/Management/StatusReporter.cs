using System.Threading.Channels;
using McpServerless.Model;
using McpServerless.Proxy.Upstreams;
using McpServerless.Storage;

namespace McpServerless.Proxy.Management;

/// <summary>
/// Writes each connection's status and tools to the store for admin hosts that hold no connections (the Functions
/// app), on every change and every <c>ReconcileInterval</c>, coalescing bursts per server. A store without reports
/// (in-memory, one process) takes nothing.
/// </summary>
internal sealed partial class StatusReporter(IMcpStore store, ILogger logger)
{
    private readonly Channel<UpstreamConnection> _changed = Channel.CreateUnbounded<UpstreamConnection>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(UpstreamConnection connection)
    {
        if (store is IMcpReportStore) _changed.Writer.TryWrite(connection);
    }

    public async Task RunAsync(Func<string, UpstreamConnection?> current, CancellationToken stoppingToken)
    {
        if (store is not IMcpReportStore reports) return;
        var pending = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (await _changed.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_changed.Reader.TryRead(out var connection)) pending.Add(connection.Name);
                foreach (var name in pending)
                {
                    // Only the connection now in place speaks for the server: a replaced one's last words are stale.
                    if (current(name) is not { } connection) continue;
                    try
                    {
                        await reports.ReportAsync(new McpInstanceReport(connection.Status, [.. ToolInfos(connection)]), stoppingToken);
                    }
                    catch (McpStoreException ex)
                    {
                        LogReportFailed(logger, name, ex.Message);
                    }
                }
                pending.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task RemoveAsync(string name)
    {
        if (store is not IMcpReportStore reports) return;
        try
        {
            await reports.RemoveReportsAsync(name);
        }
        catch (McpStoreException ex)
        {
            LogReportFailed(logger, name, ex.Message);
        }
    }

    public static IEnumerable<ToolInfo> ToolInfos(UpstreamConnection connection) =>
        (connection.Session?.Tools ?? []).Select(t => new ToolInfo { Name = t.Name, Description = t.Description, InputSchema = t.InputSchema, McpName = connection.Name });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report the status of {McpName}: {Error}")]
    private static partial void LogReportFailed(ILogger logger, string mcpName, string error);
}
