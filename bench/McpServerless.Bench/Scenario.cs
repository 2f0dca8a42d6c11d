using ModelContextProtocol.Client;

namespace McpServerless.Bench;

/// <summary>
/// Where a run connects, how its tool is named there, and the processes a call passes through: the hop under test
/// first (gateway, YARP or a peer; the upstream itself for direct calls), then the upstream, then the client.
/// </summary>
internal sealed record Scenario(string Name, Uri Endpoint, HttpTransportMode Mode, IReadOnlyList<Participant> Processes, string ToolPrefix = "")
{
    public Participant Hop => Processes[0];
}

/// <summary>A process a scenario involves, by its role, measured through /proc: one PID, or a set that may change (a peer's stdio children).</summary>
internal sealed record Participant(string Role, Func<IEnumerable<int>> Pids)
{
    public const string Gateway = "gateway";
    public const string Yarp = "YARP";
    public const string Client = "client";

    public static Participant Process(string role, int pid) => new(role, () => [pid]);

    /// <summary>The processes <paramref name="parentPid"/> started, e.g. the stdio server behind a gateway.</summary>
    public static Participant ChildrenOf(string role, int parentPid) => new(role, () => ProcStat.Descendants(parentPid));

    /// <summary>The benchmark's own process, which runs the client sessions.</summary>
    public static readonly Participant BenchClient = Process(Client, Environment.ProcessId);

    public long CpuTicks() => Pids().Sum(ProcStat.CpuTicks);

    public long ResidentBytes() => Pids().Sum(ProcStat.ResidentBytes);
}

internal sealed record Payload(string Name, string Tool, IReadOnlyDictionary<string, object?> Arguments)
{
    public static readonly Payload Echo = new("echo", "echo", new Dictionary<string, object?> { ["message"] = "hello" });

    public static readonly Payload Large = new("100KB", "big", new Dictionary<string, object?> { ["kilobytes"] = 100 });
}
