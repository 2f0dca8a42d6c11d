using System.Diagnostics;
using McpServerless.Model;
using McpServerless.VirtualServers;

namespace McpServerless.Bench;

/// <summary>
/// <c>--virtual-resolve</c>: what a virtual server costs the relay: compiling a definition (once per version), resolving
/// its tools against the servers' lists (again whenever a member server's list changes), and finding the member a call
/// names (per call). A realistic large case: 10 servers of 50 tools, 12 selectors (exact names and globs), 5 renames.
/// Best of many rounds, so a busy machine shows the cost, not its queueing.
/// </summary>
internal static class VirtualResolveCost
{
    private const int Rounds = 200;
    private const int Iterations = 2000;

    public static void Print()
    {
        var tools = Enumerable.Range(0, 10).ToDictionary(
            s => $"server-{s}",
            s => Enumerable.Range(0, 50).Select(t => $"{(t % 3 == 0 ? "read" : t % 3 == 1 ? "write" : "list")}_{s}_{t}").ToArray());
        var definition = new VirtualServerDefinition
        {
            Name = "curated",
            Tools = [.. Enumerable.Range(0, 6).Select(s => $"server-{s}:read_*"), .. Enumerable.Range(0, 6).Select(s => $"server-{s + 4}:write_{s + 4}_{s * 3 + 1}")],
            Overrides = Enumerable.Range(0, 5).ToDictionary(s => $"server-{s + 4}:write_{s + 4}_{s * 3 + 1}", s => new MemberOverride { Name = $"renamed_{s}", Description = "A curated description" }),
        };
        Func<string, IEnumerable<string>?> namesOf = server => tools.GetValueOrDefault(server);

        var plan = VirtualServerPlan.Create(definition);
        var resolved = plan.Resolve(MemberKind.Tool, namesOf);
        var target = resolved.Members[resolved.Members.Count / 2].Name;
        Console.WriteLine($"virtual server: {definition.Tools.Count} selectors over {tools.Count} servers of {tools.First().Value.Length} tools -> {resolved.Members.Count} exposed tools");

        Measure("compile (per definition version)", () => VirtualServerPlan.Create(definition));
        Measure("resolve tools (per member list change)", () => plan.Resolve(MemberKind.Tool, namesOf));
        Measure("find the member a call names", () => _ = resolved.TryGet(target, out _));
    }

    private static void Measure(string what, Action action)
    {
        var best = double.MaxValue;
        var allocated = long.MaxValue;
        for (var i = 0; i < Iterations; i++) action(); // warm-up
        for (var round = 0; round < Rounds; round++)
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Iterations; i++) action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalNanoseconds / Iterations);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - bytes);
        }
        Console.WriteLine($"{what,-40} {best,9:F0} ns, {allocated / Iterations,7} bytes allocated (best of {Rounds} x {Iterations})");
    }
}
