using System.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace McpServerless.Bench;

/// <summary>One measured run: throughput, latency percentiles, errors, and what the measured process used.</summary>
internal sealed record RunResult(
    string Scenario, int Sessions, string Payload, double RequestsPerSecond, double P50Ms, double P95Ms, double P99Ms,
    long Errors, double? RssMegabytes, double? CpuPercent)
{
    /// <summary>Why the run could not be made (the peer fell over), or null.</summary>
    public string? Failure { get; init; }
}

/// <summary>Drives <c>tools/call</c> from N concurrent MCP sessions for a fixed time; every loop stops by itself.</summary>
internal static class LoadDriver
{
    /// <summary>The session-based revision every peer here speaks; clients of it are what gateways mostly serve.</summary>
    public const string ProtocolVersion = "2025-11-25";

    public static Task<McpClient> ConnectAsync(Uri endpoint, HttpTransportMode mode, CancellationToken cancellationToken) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = mode }),
            new McpClientOptions { ProtocolVersion = ProtocolVersion },
            cancellationToken: cancellationToken);

    public static async Task<RunResult> RunAsync(Scenario scenario, int sessions, Payload payload, TimeSpan warmup, TimeSpan duration, ChildProcess? measured)
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

            var cpuBefore = measured?.CpuTime();
            var started = Stopwatch.GetTimestamp();
            var perSession = await DriveAsync(clients, scenario, payload, duration, bound.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);

            var all = perSession.SelectMany(s => s.Latencies).Order().ToArray();
            double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
            return new RunResult(scenario.Name, sessions, payload.Name, all.Length / elapsed.TotalSeconds,
                Percentile(0.50), Percentile(0.95), Percentile(0.99), perSession.Sum(s => s.Errors),
                measured is null ? null : measured.ResidentBytes() / 1048576.0,
                measured is null ? null : (measured.CpuTime() - cpuBefore!.Value).TotalSeconds / elapsed.TotalSeconds * 100);
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

/// <summary>Where a run connects and how its tool is named there.</summary>
internal sealed record Scenario(string Name, Uri Endpoint, HttpTransportMode Mode, string ToolPrefix = "", bool ThroughGateway = false);

internal sealed record Payload(string Name, string Tool, IReadOnlyDictionary<string, object?> Arguments)
{
    public static readonly Payload Echo = new("echo", "echo", new Dictionary<string, object?> { ["message"] = "hello" });

    public static readonly Payload Large = new("100KB", "big", new Dictionary<string, object?> { ["kilobytes"] = 100 });
}
