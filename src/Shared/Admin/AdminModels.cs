using McpServerless.Model;

namespace McpServerless.Admin;

/// <summary>One registry entry as the admin API shows it: the redacted definition, its version, its status.</summary>
public sealed record McpEntry(McpDefinition Definition, string Version, McpRuntimeStatus Status);

public sealed record McpList(IReadOnlyList<McpEntry> Mcps, int Count);

public sealed record ToolList(IReadOnlyList<ToolInfo> Tools, int Count);

public sealed record HealthBody
{
    public required string Status { get; init; }

    public required string Uptime { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyDictionary<string, string> Checks { get; init; }
}
