using System.Diagnostics;
using McpServerless.Audit;
using McpServerless.Configuration;
using McpServerless.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Bench;

/// <summary>
/// <c>--audit-cost</c>: what recording one audited call costs the request path (<see cref="AuditLog.Begin"/>, then
/// <see cref="AuditScope.Complete"/>, then the queue), with auditing off and on. In-process, no pump running, so the
/// figure is the caller's share alone; the best of many batches, so a busy machine shows the cost, not its queueing.
/// </summary>
internal static class AuditCost
{
    private const int Rounds = 300;
    private const int Warmup = 5000;
    private const int Calls = 3000; // with the warm-up, stays within the queue's grown buffer (8192)

    public static void Print()
    {
        var caller = AuditCaller.From(System.Net.IPAddress.Loopback, "bench-token");
        foreach (var enabled in new[] { false, true })
        {
            var best = double.MaxValue;
            var allocated = long.MaxValue;
            for (var round = 0; round < Rounds; round++)
            {
                var services = new ServiceCollection().AddMetrics().AddLogging();
                services.AddSingleton(TimeProvider.System);
                services.Configure<AuditOptions>(options => options.Enabled = enabled);
                services.AddSingleton<IAuditStore, InMemoryAuditStore>();
                services.AddSingleton<AuditLog>();
                using var provider = services.BuildServiceProvider();
                var log = provider.GetRequiredService<AuditLog>();

                Record(log, caller, Warmup);
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                Record(log, caller, Calls);
                best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalNanoseconds / Calls);
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - bytes);
            }
            Console.WriteLine($"audit {(enabled ? "on " : "off")}: {best,6:F0} ns per call on the request path, {allocated / Calls} bytes allocated per call (best of {Rounds} x {Calls} calls)");
        }
    }

    private static void Record(AuditLog log, AuditCaller caller, int calls)
    {
        for (var i = 0; i < calls; i++)
            log.Begin(AuditRoutes.Server, caller, AuditMethods.ToolsCall, "files", "read_file", requestBytes: 120).Complete(AuditOutcomes.Ok, responseBytes: 480);
    }
}
