using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpServerless.Proxy;

/// <summary>
/// The gateway as a library, the C# counterpart of the original Go <c>Proxy</c> interface.
/// Calls are safe from many threads at once; definitions given here are trusted (in-process), so
/// <see cref="GetMcpAsync"/> returns them unredacted.
/// </summary>
public interface IMcpProxy : IAsyncDisposable
{
    /// <summary>The address the gateway listens on, known once started (useful with port 0).</summary>
    Uri BaseAddress { get; }

    Task StartAsync(CancellationToken cancellationToken = default);

    Task StopAsync(CancellationToken cancellationToken = default);

    Task<StoredMcp> RegisterMcpAsync(McpDefinition definition, CancellationToken cancellationToken = default);

    Task<StoredMcp> UpdateMcpAsync(string name, McpDefinition definition, CancellationToken cancellationToken = default);

    Task UnregisterMcpAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<McpRuntimeStatus>> ListMcpsAsync(CancellationToken cancellationToken = default);

    Task<McpDefinition?> GetMcpAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default);

    Task<HealthReport> HealthAsync(CancellationToken cancellationToken = default);

    Task<MetricsSnapshot> GetMetricsAsync(CancellationToken cancellationToken = default);
}
