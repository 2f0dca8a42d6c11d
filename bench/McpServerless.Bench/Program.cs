using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using McpServerless.Bench;
using McpServerless.Model;
using ModelContextProtocol.Client;

// Benchmarks the gateway against direct calls to the same upstream, against YARP forwarding to it (the floor: one
// .NET HTTP hop) and against the npm peers bridging the same stdio server. For every run it reads each involved
// process's CPU time and memory from /proc. Traffic stays on loopback; every run is bounded in time. Usage:
//   dotnet run -c Release --project bench/McpServerless.Bench -- [--quick] [--duration 10] [--sessions 1,8,32,128]
//       [--warmup 3] [--repeat 3] [--only <name part>,<name part>] [--skip-peers] [--soak 300] [--session-scale 10000]
//   dotnet run -c Release --project bench/McpServerless.Bench -- --audit-cost   (the audit log's share of a call, in-process)
//   dotnet run -c Release --project bench/McpServerless.Bench -- --tracing-cost (spans, trace context and MCP metrics of a call, in-process)
//   dotnet run -c Release --project bench/McpServerless.Bench -- --virtual-resolve   (a virtual server's compile, resolve and lookup)
//   dotnet run -c Release --project bench/McpServerless.Bench -- --relay-cost   (bytes the gateway allocates per relayed call)
if (args.Contains("--audit-cost"))
{
    AuditCost.Print();
    return;
}
if (args.Contains("--tracing-cost"))
{
    TracingCost.Print();
    return;
}
if (args.Contains("--virtual-resolve"))
{
    VirtualResolveCost.Print();
    return;
}
if (args.Contains("--relay-cost"))
{
    await RelayCost.PrintAsync(Path.Combine(AppContext.BaseDirectory, "McpServerless.TestMcpServer.dll"), FreePort());
    return;
}
var settings = BenchSettings.Parse(args);
var root = RepositoryRoot();
var nodeModules = Path.Combine(root, ".tools", "node", "node_modules");
var binaries = AppContext.BaseDirectory;
var testServer = Path.Combine(binaries, "McpServerless.TestMcpServer.dll");

Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; every process on this machine, loopback only.");
Console.WriteLine($"Settings: {settings}");
var loadBefore = LoadAverage();
Console.WriteLine($"Load average before: {loadBefore} (other work on the machine makes every figure noisier)");

var upstreamPort = FreePort();
await using var upstream = await ChildProcess.StartAsync("dotnet", [testServer, "http", Port(upstreamPort)], upstreamPort);
var upstreamUri = new Uri($"http://127.0.0.1:{upstreamPort}/mcp");
var yarpPort = FreePort();
await using var yarp = await ChildProcess.StartAsync("dotnet",
    [Path.Combine(binaries, "McpServerless.Bench.YarpForwarder.dll"), Port(yarpPort), $"http://127.0.0.1:{upstreamPort}/"], yarpPort);
await using var gateway = await GatewayProcess.StartAsync(binaries, FreePort(), maxSessions: 5000);
await gateway.RegisterAsync(new McpDefinition { Name = "up", Transport = McpTransport.StreamableHttp, Url = upstreamUri.ToString() });
await gateway.RegisterAsync(new McpDefinition { Name = "stdio", Transport = McpTransport.Stdio, Command = "dotnet", Args = [testServer, "stdio"] });
Console.WriteLine($"PIDs: upstream {upstream.Id}, YARP {yarp.Id}, gateway {gateway.Process.Id}, client (this process) {Environment.ProcessId}");

var httpUpstream = Participant.Process("upstream", upstream.Id);
var gatewayHop = Participant.Process(Participant.Gateway, gateway.Process.Id);
var client = Participant.BenchClient;
var scenarios = new List<Scenario>
{
    new(ScenarioNames.Direct, upstreamUri, HttpTransportMode.StreamableHttp, [httpUpstream, client]),
    new(ScenarioNames.Yarp, new Uri($"http://127.0.0.1:{yarpPort}/mcp"), HttpTransportMode.StreamableHttp,
        [Participant.Process(Participant.Yarp, yarp.Id), httpUpstream, client]),
    new(ScenarioNames.GatewayStream, new Uri(gateway.BaseAddress, "up/stream"), HttpTransportMode.StreamableHttp, [gatewayHop, httpUpstream, client]),
    new(ScenarioNames.GatewaySse, new Uri(gateway.BaseAddress, "up/sse"), HttpTransportMode.Sse, [gatewayHop, httpUpstream, client]),
    new(ScenarioNames.GatewayAggregated, new Uri(gateway.BaseAddress, "mcp"), HttpTransportMode.StreamableHttp, [gatewayHop, httpUpstream, client], ToolPrefix: "up__"),
    new(ScenarioNames.GatewayStdio, new Uri(gateway.BaseAddress, "stdio/stream"), HttpTransportMode.StreamableHttp,
        [gatewayHop, Participant.ChildrenOf("upstream (stdio)", gateway.Process.Id), client]),
};

var peers = new List<ChildProcess>();
if (!settings.SkipPeers)
{
    var supergatewayPort = FreePort();
    var supergateway = await ChildProcess.StartAsync("node",
    [
        Path.Combine(nodeModules, "supergateway", "dist", "index.js"), "--stdio", $"dotnet {testServer} stdio",
        "--port", Port(supergatewayPort), "--outputTransport", "streamableHttp", "--stateful", "--logLevel", "none",
    ], supergatewayPort);
    peers.Add(supergateway);
    scenarios.Add(new(ScenarioNames.Supergateway, new Uri($"http://127.0.0.1:{supergatewayPort}/mcp"), HttpTransportMode.StreamableHttp,
        [Participant.Process("supergateway", supergateway.Id), Participant.ChildrenOf("upstream (stdio)", supergateway.Id), client]));

    var mcpProxyPort = FreePort();
    var mcpProxy = await ChildProcess.StartAsync("node",
    [
        Path.Combine(nodeModules, "mcp-proxy", "dist", "bin", "mcp-proxy.mjs"), "--host", "127.0.0.1", "--port", Port(mcpProxyPort),
        "--server", "stream", "--", "dotnet", testServer, "stdio",
    ], mcpProxyPort);
    peers.Add(mcpProxy);
    scenarios.Add(new(ScenarioNames.McpProxy, new Uri($"http://127.0.0.1:{mcpProxyPort}/mcp"), HttpTransportMode.StreamableHttp,
        [Participant.Process("mcp-proxy", mcpProxy.Id), Participant.ChildrenOf("upstream (stdio)", mcpProxy.Id), client]));
}
if (settings.Only.Count > 0) scenarios.RemoveAll(s => !settings.Only.Any(part => s.Name.Contains(part, StringComparison.OrdinalIgnoreCase)));

var results = new List<RunResult>();
try
{
    // One unmeasured round first: on a busy box, JIT tiering of all three processes takes far longer than a run's
    // own warm-up, and without it whichever scenario runs first measures the JIT, not the gateway.
    Console.WriteLine("Warming up every scenario (unmeasured) ...");
    foreach (var scenario in scenarios)
        await RunOrRecordFailureAsync(scenario, 8, Payload.Echo, settings with { Duration = settings.Warmup * 2 });

    foreach (var sessions in settings.Sessions)
        results.AddRange(await MeasureAsync(scenarios, sessions, Payload.Echo, settings));
    results.AddRange(await MeasureAsync(scenarios, settings.Sessions.Contains(32) ? 32 : settings.Sessions.Max(), Payload.Large, settings));
    var loadAfterRuns = LoadAverage();

    var soak = settings.Soak > TimeSpan.Zero ? await SoakAsync(scenarios.Where(s => s.Hop == gatewayHop).ToList(), settings.Soak, gateway.Process) : null;
    var scale = settings.SessionScale > 0 ? await SessionScaleOnFreshGatewayAsync(settings.SessionScale, upstreamUri) : null;

    var summary = BenchSummary.From(results);
    BenchReport.PrintTable(results);
    BenchReport.PrintSummary(summary);
    if (scale is not null)
    {
        Console.WriteLine(FormattableString.Invariant($"Session scale: {scale.Opened}/{scale.Sessions} sessions in {scale.OpenSeconds:F1} s, gateway RSS {scale.RssBeforeMegabytes:F0} -> {scale.RssAfterMegabytes:F0} MB ({scale.KilobytesPerSession:F0} KB/session), {(scale.Passed ? "held within the limit, no errors" : "FAILED")}"));
        if (!scale.Passed) Environment.ExitCode = 1; // a gateway that cannot hold its sessions is a failure, not a figure
    }
    if (soak is not null)
        Console.WriteLine(FormattableString.Invariant($"Soak: {soak.Seconds:F0} s, {soak.Calls} calls, RSS {soak.RssStartMegabytes:F0} -> {soak.RssEndMegabytes:F0} MB (max {soak.RssMaxMegabytes:F0})"));
    Console.WriteLine($"Load average before {loadBefore}, after the runs {loadAfterRuns}.");

    var output = Path.Combine(root, "bench", "results");
    Directory.CreateDirectory(output);
    var file = Path.Combine(output, "latest.json");
    await File.WriteAllTextAsync(file, JsonSerializer.Serialize(
        new { machine = $"{Environment.ProcessorCount} cores", settings = settings.ToString(), loadAverage = new { before = loadBefore, afterRuns = loadAfterRuns }, summary, results, sessionScale = scale, soak },
        // A failed run has no latencies; NaN is written as "NaN" rather than failing the whole report.
        new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    BenchChart.Write(results, output);
    Console.WriteLine($"Wrote {file} and the chart beside it (latest.png, latest.svg)");
}
finally
{
    foreach (var peer in peers) await peer.DisposeAsync();
}

// Each round runs every scenario once, so a busy spell on a shared machine hits different scenarios in different
// rounds; of each scenario's rounds the median by CPU per call of the hop is kept.
static async Task<IEnumerable<RunResult>> MeasureAsync(IReadOnlyList<Scenario> scenarios, int sessions, Payload payload, BenchSettings settings)
{
    var rounds = scenarios.Select(_ => new List<RunResult>()).ToArray();
    for (var round = 0; round < settings.Repeat; round++)
    {
        for (var i = 0; i < scenarios.Count; i++)
            rounds[i].Add(await RunOrRecordFailureAsync(scenarios[i], sessions, payload, settings));
    }
    return rounds.Select(runs => BenchReport.PrintRun(runs.FirstOrDefault(r => r.Failure is not null)
        ?? runs.OrderBy(r => r.Hop().CpuMicrosecondsPerCall).ElementAt(runs.Count / 2))).ToArray();
}

// A peer that falls over under load is a result too, not the end of the benchmark.
static async Task<RunResult> RunOrRecordFailureAsync(Scenario scenario, int sessions, Payload payload, BenchSettings settings)
{
    try
    {
        return await LoadDriver.RunAsync(scenario, sessions, payload, settings.Warmup, settings.Duration);
    }
    catch (Exception ex) when (ex is ModelContextProtocol.McpException or HttpRequestException or IOException or OperationCanceledException)
    {
        return RunResult.Failed(scenario, sessions, payload, ex.Message);
    }
}

// A gateway of its own, so the baseline is a gateway that has served nothing else and the limit is exactly the count.
async Task<SessionScaleResult> SessionScaleOnFreshGatewayAsync(int count, Uri upstreamEndpoint)
{
    await using var fresh = await GatewayProcess.StartAsync(binaries, FreePort(), maxSessions: count);
    await fresh.RegisterAsync(new McpDefinition { Name = "up", Transport = McpTransport.StreamableHttp, Url = upstreamEndpoint.ToString() });
    return await SessionScale.RunAsync(fresh, "up", count);
}

static async Task<SoakResult> SoakAsync(IReadOnlyList<Scenario> scenarios, TimeSpan duration, ChildProcess gateway)
{
    Console.WriteLine($"Soak: mixed traffic through the gateway for {duration.TotalSeconds:F0} s ...");
    var samples = new List<double> { ProcStat.ResidentBytes(gateway.Id) / 1048576.0 };
    var stopAt = DateTime.UtcNow + duration;
    long calls = 0;
    var round = 0;
    while (DateTime.UtcNow < stopAt)
    {
        var scenario = scenarios[round % scenarios.Count];
        var payload = round++ % 4 == 3 ? Payload.Large : Payload.Echo;
        var slice = TimeSpan.FromSeconds(Math.Min(10, Math.Max(1, (stopAt - DateTime.UtcNow).TotalSeconds)));
        calls += (await LoadDriver.RunAsync(scenario, 16, payload, TimeSpan.Zero, slice)).Calls;
        samples.Add(ProcStat.ResidentBytes(gateway.Id) / 1048576.0);
    }
    var soak = new SoakResult(duration.TotalSeconds, calls, samples[0], samples[^1], samples.Max());
    Console.WriteLine($"  {calls} calls; gateway RSS start {soak.RssStartMegabytes:F0} MB, end {soak.RssEndMegabytes:F0} MB, max {soak.RssMaxMegabytes:F0} MB");
    return soak;
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "McpServerless.sln"))) return dir.FullName;
    }
    throw new DirectoryNotFoundException("McpServerless.sln not found above the benchmark.");
}

internal sealed record SoakResult(double Seconds, long Calls, double RssStartMegabytes, double RssEndMegabytes, double RssMaxMegabytes);
