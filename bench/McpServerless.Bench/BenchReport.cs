using System.Globalization;

namespace McpServerless.Bench;

/// <summary>The scenarios the summary compares, by name.</summary>
internal static class ScenarioNames
{
    public const string Direct = "direct (upstream HTTP)";
    public const string Yarp = "YARP -> upstream HTTP";
    public const string GatewayStream = "gateway /{name}/stream";
    public const string GatewaySse = "gateway /{name}/sse";
    public const string GatewayAggregated = "gateway /mcp (aggregated)";
    public const string GatewayStdio = "gateway stdio /{name}/stream";
    public const string Supergateway = "supergateway stdio (npm)";
    public const string McpProxy = "mcp-proxy stdio (npm)";
}

/// <summary>The figures the targets are stated against (issue 19), computed from the runs.</summary>
/// <param name="GatewayVsYarp">CPU per call of the gateway on <c>/{name}/stream</c> against YARP's, for the same calls to the same upstream.</param>
/// <param name="AddedP50MsAtOneSession">Gateway <c>/{name}/stream</c> p50 minus direct p50, one session, echo.</param>
/// <param name="YarpAddedP50MsAtOneSession">The same for YARP: what one .NET HTTP hop adds.</param>
/// <param name="StdioThroughputVsMcpProxy">Gateway req/s over <c>mcp-proxy</c>'s on the same stdio server, echo, per session count.</param>
internal sealed record BenchSummary(
    IReadOnlyList<HopComparison> GatewayVsYarp, double? AddedP50MsAtOneSession, double? YarpAddedP50MsAtOneSession,
    IReadOnlyList<ThroughputRatio> StdioThroughputVsMcpProxy)
{
    public static BenchSummary From(IReadOnlyList<RunResult> results)
    {
        RunResult? Find(string scenario, int sessions, string payload) =>
            results.FirstOrDefault(r => r.Scenario == scenario && r.Sessions == sessions && r.Payload == payload && r.Failure is null);

        var hops = results.Where(r => r.Scenario == ScenarioNames.GatewayStream && r.Failure is null)
            .Select(gateway => (gateway, yarp: Find(ScenarioNames.Yarp, gateway.Sessions, gateway.Payload)))
            .Where(pair => pair.yarp is not null)
            .Select(pair => HopComparison.Of(pair.gateway, pair.yarp!))
            .ToArray();

        double? AddedP50(string scenario) =>
            Find(scenario, 1, Payload.Echo.Name) is { } through && Find(ScenarioNames.Direct, 1, Payload.Echo.Name) is { } direct
                ? through.P50Ms - direct.P50Ms : null;

        var versusMcpProxy = results.Where(r => r.Scenario == ScenarioNames.GatewayStdio && r.Payload == Payload.Echo.Name && r.Failure is null)
            .Select(gateway => (gateway, peer: Find(ScenarioNames.McpProxy, gateway.Sessions, gateway.Payload)))
            .Where(pair => pair.peer is { RequestsPerSecond: > 0 })
            .Select(pair => new ThroughputRatio(pair.gateway.Sessions, pair.gateway.RequestsPerSecond, pair.peer!.RequestsPerSecond, pair.gateway.RequestsPerSecond / pair.peer.RequestsPerSecond))
            .ToArray();

        return new BenchSummary(hops, AddedP50(ScenarioNames.GatewayStream), AddedP50(ScenarioNames.Yarp), versusMcpProxy);
    }
}

internal sealed record HopComparison(string Payload, int Sessions, double GatewayCpuMicrosecondsPerCall, double YarpCpuMicrosecondsPerCall, double Ratio)
{
    public static HopComparison Of(RunResult gateway, RunResult yarp)
    {
        var gatewayCpu = gateway.Of(Participant.Gateway)!.CpuMicrosecondsPerCall;
        var yarpCpu = yarp.Of(Participant.Yarp)!.CpuMicrosecondsPerCall;
        return new HopComparison(gateway.Payload, gateway.Sessions, gatewayCpu, yarpCpu, gatewayCpu / yarpCpu);
    }
}

internal sealed record ThroughputRatio(int Sessions, double GatewayRequestsPerSecond, double PeerRequestsPerSecond, double Ratio);

/// <summary>Prints runs as they finish, then the table and the summary.</summary>
internal static class BenchReport
{
    public static RunResult PrintRun(RunResult result)
    {
        var head = $"  {result.Scenario,-30} {result.Payload,-6} {result.Sessions,4} sessions:";
        Console.WriteLine(result.Failure is not null
            ? $"{head} FAILED ({result.Failure})"
            : Invariant($"{head} {result.RequestsPerSecond,8:F0} req/s  p50 {result.P50Ms,6:F2} ms  p95 {result.P95Ms,6:F2} ms  p99 {result.P99Ms,6:F2} ms  errors {result.Errors}  CPU µs/call {CpuPerCall(result)}"));
        return result;
    }

    public static void PrintTable(IReadOnlyList<RunResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("| scenario | payload | sessions | req/s | p50 ms | p95 ms | p99 ms | errors | CPU µs per call | RSS MB |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
        foreach (var r in results)
        {
            Console.WriteLine(r.Failure is not null
                ? $"| {r.Scenario} | {r.Payload} | {r.Sessions} | failed: {r.Failure} | | | | | | |"
                : Invariant($"| {r.Scenario} | {r.Payload} | {r.Sessions} | {r.RequestsPerSecond:F0} | {r.P50Ms:F2} | {r.P95Ms:F2} | {r.P99Ms:F2} | {r.Errors} | {CpuPerCall(r)} | {Rss(r)} |"));
        }
    }

    public static void PrintSummary(BenchSummary summary)
    {
        Console.WriteLine();
        foreach (var hop in summary.GatewayVsYarp)
            Console.WriteLine(Invariant($"Gateway CPU/call ÷ YARP CPU/call ({hop.Payload}, {hop.Sessions} sessions): {hop.GatewayCpuMicrosecondsPerCall:F0} µs ÷ {hop.YarpCpuMicrosecondsPerCall:F0} µs = {hop.Ratio:F2}x"));
        if (summary.AddedP50MsAtOneSession is { } added)
            Console.WriteLine(Invariant($"Added p50 at 1 session vs direct: gateway /{{name}}/stream {added * 1000:+0;-0} µs, YARP {summary.YarpAddedP50MsAtOneSession * 1000:+0;-0} µs"));
        foreach (var ratio in summary.StdioThroughputVsMcpProxy)
            Console.WriteLine(Invariant($"Gateway stdio ÷ mcp-proxy throughput ({ratio.Sessions} sessions): {ratio.GatewayRequestsPerSecond:F0} ÷ {ratio.PeerRequestsPerSecond:F0} req/s = {ratio.Ratio:F1}x"));
    }

    private static string CpuPerCall(RunResult result) =>
        string.Join(" · ", result.Processes.Select(p => Invariant($"{p.Role} {p.CpuMicrosecondsPerCall:F0}")));

    private static string Rss(RunResult result) =>
        string.Join(" · ", result.Processes.Where(p => p.Role != Participant.Client).Select(p => Invariant($"{p.Role} {p.RssMegabytes:F0}")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
