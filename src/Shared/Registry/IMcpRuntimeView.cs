using McpServerless.Model;
using McpServerless.Storage;

namespace McpServerless.Registry;

/// <summary>What the admin API shows of live connections: status per server and the aggregated tools.</summary>
public interface IMcpRuntimeView
{
    ValueTask<IReadOnlyDictionary<string, McpRuntimeStatus>> ListStatusesAsync(CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The runtime view of a host that holds no connections (the Functions app): the freshest report
/// each server's instances wrote to the store, with its <see cref="McpRuntimeStatus.ReportedAt"/>.
/// </summary>
public sealed class StoredRuntimeView(IMcpStore store) : IMcpRuntimeView
{
    public async ValueTask<IReadOnlyDictionary<string, McpRuntimeStatus>> ListStatusesAsync(CancellationToken cancellationToken = default) =>
        (await FreshestReportsAsync(cancellationToken)).ToDictionary(r => r.Status.Name, r => r.Status, StringComparer.Ordinal);

    public async ValueTask<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default) =>
        [.. (await FreshestReportsAsync(cancellationToken)).SelectMany(r => r.Tools)];

    private async ValueTask<IEnumerable<McpInstanceReport>> FreshestReportsAsync(CancellationToken cancellationToken)
    {
        if (store is not IMcpReportStore reportStore) return [];
        var registered = (await store.ListAsync(cancellationToken)).Select(m => m.Definition.Name).ToHashSet(StringComparer.Ordinal);
        var reports = await reportStore.ListReportsAsync(cancellationToken);
        return reports
            .Where(r => registered.Contains(r.Status.Name))
            .GroupBy(r => r.Status.Name, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Status.ReportedAt)!)
            .OrderBy(r => r.Status.Name, StringComparer.Ordinal);
    }
}
