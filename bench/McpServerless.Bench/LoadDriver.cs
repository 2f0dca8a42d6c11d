using System.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace McpServerless.Bench;

/// <summary>One measured run: throughput, latency percentiles, errors, and what each process of the scenario used.</summary>
internal sealed record RunResult(
    string Scenario, int Sessions, string Payload, long Calls, double RequestsPerSecond, double P50Ms, double P95Ms, double P99Ms,
    long Errors, IReadOnlyList<ProcessUsage> Processes)
{
    /// <summary>Why the run could not be made (the peer fell over), or null.</summary>
    public string? Failure { get; init; }

    public static RunResult Failed(Scenario scenario, int sessions, Payload payload, string reason) =>
        new(scenario.Name, sessions, payload.Name, 0, 0, double.NaN, double.NaN, double.NaN, -1, []) { Failure = reason };

    public ProcessUsage? Of(string role) => Processes.FirstOrDefault(p => p.Role == role);

    /// <summary>The process the client talks to: the scenario's first.</summary>
    public ProcessUsage Hop() => Processes[0];
}

/// <summary>
/// What one process used during a run: CPU time per completed call (user + system, from /proc), the share of one
/// core it kept busy, and its resident memory at the end.
/// </summary>
internal sealed record ProcessUsage(string Role, double CpuMicrosecondsPerCall, double CpuPercent, double RssMegabytes);

/// <summary>Drives <c>tools/call</c> from N concurrent MCP sessions for a fixed time; every loop stops by itself.</summary>
internal static class LoadDriver
{
    /// <summary>The session-based revision every peer here speaks; clients of it are what gateways mostly serve.</summary>
    public const string ProtocolVersion = "2025-11-25";

    /// <summary>Opens a session; each has its own <see cref="HttpClient"/> (as separate clients would) unless one is shared.</summary>
    public static Task<McpClient> ConnectAsync(Uri endpoint, HttpTransportMode mode, CancellationToken cancellationToken, HttpClient? sharedHttp = null)
    {
        var options = new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = mode };
        return McpClient.CreateAsync(
            sharedHttp is null ? new HttpClientTransport(options) : new HttpClientTransport(options, sharedHttp),
            new McpClientOptions { ProtocolVersion = ProtocolVersion },
            cancellationToken: cancellationToken);
    }

    public static async Task<RunResult> RunAsync(Scenario scenario, int sessions, Payload payload, TimeSpan warmup, TimeSpan duration)
    {
        using var bound = new CancellationTokenSource(warmup + duration + TimeSpan.FromMinutes(2));
        var clients = new List<McpClient>();
        try
        {
            for (var opened = 0; opened < sessions; opened += 16)
            {
                var batch = Math.Min(16, sessions - opened);
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, batch).Select(_ => ConnectAsync(scenario.Endpoint, scenario.Mode, bound.Token))));
            }
            // Unmeasured first, so JIT tiering and connection pools of every process are warm when timing starts:
            // otherwise whichever scenario runs first pays for it.
            await DriveAsync(clients, scenario, payload, warmup, bound.Token);

            var ticksBefore = scenario.Processes.Select(p => p.CpuTicks()).ToArray();
            var started = Stopwatch.GetTimestamp();
            var perSession = await DriveAsync(clients, scenario, payload, duration, bound.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var ticksAfter = scenario.Processes.Select(p => p.CpuTicks()).ToArray();

            var all = perSession.SelectMany(s => s.Latencies).Order().ToArray();
            double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
            var usage = scenario.Processes.Select((process, i) =>
            {
                var cpuSeconds = (ticksAfter[i] - ticksBefore[i]) / ProcStat.TicksPerSecond;
                return new ProcessUsage(process.Role, all.Length == 0 ? double.NaN : cpuSeconds * 1e6 / all.Length,
                    cpuSeconds / elapsed.TotalSeconds * 100, process.ResidentBytes() / 1048576.0);
            }).ToArray();
            return new RunResult(scenario.Name, sessions, payload.Name, all.Length, all.Length / elapsed.TotalSeconds,
                Percentile(0.50), Percentile(0.95), Percentile(0.99), perSession.Sum(s => s.Errors), usage);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    /// <summary>Every session calls in a loop until <paramref name="duration"/> is over; returns each session's latencies and errors.</summary>
    private static Task<(List<double> Latencies, long Errors)[]> DriveAsync(List<McpClient> clients, Scenario scenario, Payload payload, TimeSpan duration, CancellationToken cancellationToken)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            var latencies = new List<double>(4096);
            long errors = 0;
            while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var call = Stopwatch.GetTimestamp();
                try
                {
                    await CallAsync(client, scenario, payload, cancellationToken);
                    latencies.Add(Stopwatch.GetElapsedTime(call).TotalMilliseconds);
                }
                catch (Exception ex) when (ex is McpException or HttpRequestException or OperationCanceledException)
                {
                    errors++;
                }
            }
            return (latencies, errors);
        })));
    }

    private static async Task CallAsync(McpClient client, Scenario scenario, Payload payload, CancellationToken cancellationToken)
    {
        var result = await client.CallToolAsync(scenario.ToolPrefix + payload.Tool, payload.Arguments, cancellationToken: cancellationToken);
        if (result.IsError == true) throw new McpException("the tool answered with an error");
    }
}
