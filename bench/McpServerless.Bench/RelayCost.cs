using System.Diagnostics.Tracing;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Proxy;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace McpServerless.Bench;

/// <summary>
/// <c>--relay-cost</c>: bytes the gateway allocates per relayed <c>tools/call</c>, a figure that, unlike CPU time, a
/// busy machine does not move. The gateway runs in this process, the upstream in its own; one session calls the echo
/// tool directly and then through <c>/{name}/stream</c>, one call at a time, and the process's allocations per call
/// are compared: the difference is the gateway's. The best of several batches, so a stray timer does not count. The
/// same for CPU time, which a busy machine still moves, but less at one call at a time; the types behind the bytes are
/// sampled from the runtime's allocation events.
/// </summary>
internal static class RelayCost
{
    private const int Warmup = 3000;
    private const int Rounds = 10;
    private const int Calls = 1000;

    public static async Task PrintAsync(string testServer, int upstreamPort)
    {
        await using var upstream = await ChildProcess.StartAsync("dotnet", [testServer, "http", upstreamPort.ToString(System.Globalization.CultureInfo.InvariantCulture)], upstreamPort);
        var upstreamUri = new Uri($"http://127.0.0.1:{upstreamPort}/mcp");
        await using var gateway = McpProxy.Create(new McpProxyOptions { Port = 0 }, configureBuilder: builder =>
            builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await gateway.StartAsync();
        await gateway.RegisterMcpAsync(new McpDefinition { Name = "up", Transport = McpTransport.StreamableHttp, Url = upstreamUri.ToString() });
        for (var i = 0; i < 600 && (await gateway.ListMcpsAsync()).Single().State != ConnectionState.Connected; i++) await Task.Delay(100);

        using var directTypes = new AllocationSampler();
        var direct = await PerCallAsync(upstreamUri);
        directTypes.Dispose();
        using var relayedTypes = new AllocationSampler();
        var relayed = await PerCallAsync(new Uri(gateway.BaseAddress, "up/stream"));
        relayedTypes.Dispose();
        Console.WriteLine($"relay cost: {relayed.Bytes - direct.Bytes} bytes allocated by the gateway per relayed tools/call " +
            $"(client + gateway {relayed.Bytes}, client alone {direct.Bytes}; best of {Rounds} x {Calls} sequential calls)");
        Console.WriteLine($"relay cost: {relayed.CpuMicroseconds - direct.CpuMicroseconds:F0} CPU µs of the gateway per call " +
            $"(client + gateway {relayed.CpuMicroseconds:F0}, client alone {direct.CpuMicroseconds:F0}; best of {Rounds} rounds, load-sensitive)");
        Console.WriteLine("Sampled allocations by type (runtime AllocationTick, ~100 KB each): relayed minus direct, bytes per call");
        var calls = (double)(Warmup + Rounds * Calls);
        foreach (var (type, bytes) in relayedTypes.Bytes.Select(p => (p.Key, p.Value - directTypes.Bytes.GetValueOrDefault(p.Key))).OrderByDescending(p => p.Item2).Take(40))
            Console.WriteLine($"  {bytes / calls,8:F0}  {type}");
    }

    /// <summary>The runtime's allocation samples (one per ~100 KB allocated) by type, for this process.</summary>
    private sealed class AllocationSampler : EventListener
    {
        public Dictionary<string, long> Bytes { get; } = [];

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null) return;
            var type = e.Payload[e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], System.Globalization.CultureInfo.InvariantCulture);
            lock (Bytes) Bytes[type] = Bytes.GetValueOrDefault(type) + amount;
        }
    }

    /// <summary>Allocated bytes and CPU µs of this process per call, each the best of the rounds.</summary>
    private static async Task<(long Bytes, double CpuMicroseconds)> PerCallAsync(Uri endpoint)
    {
        await using var client = await LoadDriver.ConnectAsync(endpoint, HttpTransportMode.StreamableHttp, CancellationToken.None);
        await CallAsync(client, Warmup);
        var (bytes, cpu) = (long.MaxValue, double.MaxValue);
        for (var round = 0; round < Rounds; round++)
        {
            var (allocatedBefore, cpuBefore) = (GC.GetTotalAllocatedBytes(precise: true), Environment.CpuUsage.TotalTime);
            await CallAsync(client, Calls);
            bytes = Math.Min(bytes, (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / Calls);
            cpu = Math.Min(cpu, (Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds / Calls);
        }
        return (bytes, cpu);
    }

    private static async Task CallAsync(McpClient client, int calls)
    {
        for (var i = 0; i < calls; i++)
            await client.CallToolAsync(Payload.Echo.Tool, Payload.Echo.Arguments);
    }
}
