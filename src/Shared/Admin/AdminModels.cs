using McpServerless.Model;
using McpServerless.VirtualServers;

namespace McpServerless.Admin;

/// <summary>One registry entry as the admin API shows it: the redacted definition, its version, its status.</summary>
public sealed record McpEntry(McpDefinition Definition, string Version, McpRuntimeStatus Status);

public sealed record McpList(IReadOnlyList<McpEntry> Mcps, int Count);

/// <summary>
/// One virtual server as the admin API shows it: the redacted definition, its version, and what it resolves to now:
/// the tools it exposes (under their exposed names, with <see cref="ToolInfo.UpstreamName"/>), the tool selectors
/// that select nothing, and warnings (unknown servers, exposed-name collisions).
/// </summary>
public sealed record VirtualServerEntry(
    VirtualServerDefinition Definition,
    string Version,
    IReadOnlyList<ToolInfo> Tools,
    IReadOnlyList<string> UnresolvedTools,
    IReadOnlyList<VirtualServerWarning> Warnings);

public sealed record VirtualServerList(IReadOnlyList<VirtualServerEntry> VirtualServers, int Count);

public sealed record ToolList(IReadOnlyList<ToolInfo> Tools, int Count);

public sealed record HealthBody
{
    public required string Status { get; init; }

    public required string Uptime { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyDictionary<string, string> Checks { get; init; }
}
