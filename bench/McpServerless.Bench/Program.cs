using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using McpServerless.Bench;
using McpServerless.Client;
using McpServerless.Model;
using ModelContextProtocol.Client;

// Benchmarks the gateway against direct calls to the same upstream and against the npm peers bridging the same
// stdio server. Traffic stays on loopback; every run is bounded in time. Usage:
//   dotnet run -c Release --project bench/McpServerless.Bench -- [--quick] [--duration 10] [--sessions 1,8,32,128]
//       [--warmup 3] [--skip-peers] [--soak 300] [--session-scale 1000]
//   dotnet run -c Release --project bench/McpServerless.Bench -- --audit-cost   (the audit log's share of a call, in-process)
if (args.Contains("--audit-cost"))
{
    AuditCost.Print();
    return;
}
var settings = BenchSettings.Parse(args);
var root = RepositoryRoot();
var nodeModules = Path.Combine(root, ".tools", "node", "node_modules");
var binaries = AppContext.BaseDirectory;
var testServer = Path.Combine(binaries, "McpServerless.TestMcpServer.dll");
const string AdminToken = "bench-admin-token";

Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; every process on this machine, loopback only.");

var upstreamPort = FreePort();
await using var upstream = await ChildProcess.StartAsync("dotnet", [testServer, "http", Port(upstreamPort)], upstreamPort);
var gatewayPort = FreePort();
await using var gateway = await ChildProcess.StartAsync("dotnet",
[
    Path.Combine(binaries, "McpServerless.ProxyContainerApp.dll"),
    $"--McpProxy:Port={Port(gatewayPort)}", $"--McpProxy:AdminTokens:0={AdminToken}",
    "--McpProxy:Limits:MaxSessionsPerServer=5000", "--Logging:LogLevel:Default=Warning",
], gatewayPort);
var gatewayUri = new Uri($"http://127.0.0.1:{gatewayPort}/");
using var adminHttp = new HttpClient { BaseAddress = gatewayUri };
var admin = new McpProxyClient(adminHttp, AdminToken);
await admin.RegisterAsync(new McpDefinition { Name = "up", Transport = McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{upstreamPort}/mcp" });
await admin.RegisterAsync(new McpDefinition { Name = "stdio", Transport = McpTransport.Stdio, Command = "dotnet", Args = [testServer, "stdio"] });
await WaitConnectedAsync(admin, "up");
await WaitConnectedAsync(admin, "stdio");

var scenarios = new List<(Scenario Scenario, ChildProcess? Measured)>
{
    (new Scenario("direct (upstream HTTP)", new Uri($"http://127.0.0.1:{upstreamPort}/mcp"), HttpTransportMode.StreamableHttp), upstream),
    (new Scenario("gateway /{name}/stream", new Uri(gatewayUri, "up/stream"), HttpTransportMode.StreamableHttp, ThroughGateway: true), gateway),
    (new Scenario("gateway /{name}/sse", new Uri(gatewayUri, "up/sse"), HttpTransportMode.Sse, ThroughGateway: true), gateway),
    (new Scenario("gateway /mcp (aggregated)", new Uri(gatewayUri, "mcp"), HttpTransportMode.StreamableHttp, "up__", ThroughGateway: true), gateway),
    (new Scenario("gateway stdio /{name}/stream", new Uri(gatewayUri, "stdio/stream"), HttpTransportMode.StreamableHttp, ThroughGateway: true), gateway),
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
    scenarios.Add((new Scenario("supergateway stdio (npm)", new Uri($"http://127.0.0.1:{supergatewayPort}/mcp"), HttpTransportMode.StreamableHttp), supergateway));

    var mcpProxyPort = FreePort();
    var mcpProxy = await ChildProcess.StartAsync("node",
    [
        Path.Combine(nodeModules, "mcp-proxy", "dist", "bin", "mcp-proxy.mjs"), "--host", "127.0.0.1", "--port", Port(mcpProxyPort),
        "--server", "stream", "--", "dotnet", testServer, "stdio",
    ], mcpProxyPort);
    peers.Add(mcpProxy);
    scenarios.Add((new Scenario("mcp-proxy stdio (npm)", new Uri($"http://127.0.0.1:{mcpProxyPort}/mcp"), HttpTransportMode.StreamableHttp), mcpProxy));
}

var results = new List<RunResult>();
try
{
    // One unmeasured round first: on a busy box, JIT tiering of all three processes takes far longer than a run's
    // own warm-up, and without it whichever scenario runs first measures the JIT, not the gateway.
    Console.WriteLine("Warming up every scenario (unmeasured) ...");
    foreach (var (scenario, measured) in scenarios)
        await RunOrRecordFailureAsync(scenario, 8, Payload.Echo, settings with { Duration = settings.Warmup * 2 }, measured);

    foreach (var sessions in settings.Sessions)
    {
        foreach (var (scenario, measured) in scenarios)
            results.Add(Report(await RunOrRecordFailureAsync(scenario, sessions, Payload.Echo, settings, measured)));
    }
    var largeSessions = settings.Sessions.Contains(32) ? 32 : settings.Sessions.Max();
    foreach (var (scenario, measured) in scenarios)
        results.Add(Report(await RunOrRecordFailureAsync(scenario, largeSessions, Payload.Large, settings, measured)));

    var scale = settings.SessionScale > 0 ? await SessionScaleAsync(new Uri(gatewayUri, "stdio/stream"), settings.SessionScale, gateway) : null;
    var soak = settings.Soak > TimeSpan.Zero ? await SoakAsync(scenarios.Where(s => s.Scenario.ThroughGateway).Select(s => s.Scenario).ToList(), settings.Soak, gateway) : null;

    PrintSummary(results, scale, soak);
    var output = Path.Combine(root, "bench", "results");
    Directory.CreateDirectory(output);
    var file = Path.Combine(output, "latest.json");
    await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { machine = $"{Environment.ProcessorCount} cores", settings = settings.ToString(), results, sessionScale = scale, soak },
        // A failed run has no latencies; NaN is written as "NaN" rather than failing the whole report.
        new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    Console.WriteLine($"Wrote {file}");
}
finally
{
    foreach (var peer in peers) await peer.DisposeAsync();
}

// A peer that falls over under load is a result too, not the end of the benchmark.
static async Task<RunResult> RunOrRecordFailureAsync(Scenario scenario, int sessions, Payload payload, BenchSettings settings, ChildProcess? measured)
{
    try
    {
        return await LoadDriver.RunAsync(scenario, sessions, payload, settings.Warmup, settings.Duration, measured);
    }
    catch (Exception ex) when (ex is ModelContextProtocol.McpException or HttpRequestException or IOException or OperationCanceledException)
    {
        return new RunResult(scenario.Name, sessions, payload.Name, 0, double.NaN, double.NaN, double.NaN, -1, null, null) { Failure = ex.Message };
    }
}

static RunResult Report(RunResult result)
{
    if (result.Failure is not null)
    {
        Console.WriteLine($"  {result.Scenario,-30} {result.Payload,-6} {result.Sessions,4} sessions: FAILED ({result.Failure})");
        return result;
    }
    Console.WriteLine($"  {result.Scenario,-30} {result.Payload,-6} {result.Sessions,4} sessions: {result.RequestsPerSecond,9:F0} req/s  p50 {result.P50Ms,7:F2} ms  p95 {result.P95Ms,7:F2} ms  p99 {result.P99Ms,7:F2} ms  errors {result.Errors}  rss {result.RssMegabytes,6:F0} MB  cpu {result.CpuPercent,5:F0}%");
    return result;
}

static async Task<SessionScaleResult> SessionScaleAsync(Uri endpoint, int count, ChildProcess gateway)
{
    Console.WriteLine($"Opening {count} concurrent sessions on {endpoint.AbsolutePath} ...");
    var before = gateway.ResidentBytes();
    var clients = new List<McpClient>(count);
    var watch = Stopwatch.StartNew();
    using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    try
    {
        for (var opened = 0; opened < count; opened += 50)
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(50, count - opened)).Select(_ => LoadDriver.ConnectAsync(endpoint, HttpTransportMode.StreamableHttp, bound.Token))));
        var openTime = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the GET streams settle before reading memory
        var after = gateway.ResidentBytes();
        var result = new SessionScaleResult(count, openTime.TotalSeconds, before / 1048576.0, after / 1048576.0, (after - before) / 1024.0 / count);
        Console.WriteLine($"  {count} sessions open in {result.OpenSeconds:F1} s; gateway RSS {result.RssBeforeMegabytes:F0} MB -> {result.RssAfterMegabytes:F0} MB ({result.KilobytesPerSession:F0} KB per session)");
        return result;
    }
    finally
    {
        foreach (var client in clients) await client.DisposeAsync();
    }
}

static async Task<SoakResult> SoakAsync(IReadOnlyList<Scenario> scenarios, TimeSpan duration, ChildProcess gateway)
{
    Console.WriteLine($"Soak: mixed traffic through the gateway for {duration.TotalSeconds:F0} s ...");
    var samples = new List<double> { gateway.ResidentBytes() / 1048576.0 };
    var stopAt = DateTime.UtcNow + duration;
    long calls = 0;
    var round = 0;
    while (DateTime.UtcNow < stopAt)
    {
        var scenario = scenarios[round % scenarios.Count];
        var payload = round++ % 4 == 3 ? Payload.Large : Payload.Echo;
        var slice = TimeSpan.FromSeconds(Math.Min(10, Math.Max(1, (stopAt - DateTime.UtcNow).TotalSeconds)));
        var result = await LoadDriver.RunAsync(scenario, 16, payload, TimeSpan.Zero, slice, gateway);
        calls += (long)(result.RequestsPerSecond * slice.TotalSeconds);
        samples.Add(gateway.ResidentBytes() / 1048576.0);
    }
    var soak = new SoakResult(duration.TotalSeconds, calls, samples[0], samples[^1], samples.Max());
    Console.WriteLine($"  {calls} calls; gateway RSS start {soak.RssStartMegabytes:F0} MB, end {soak.RssEndMegabytes:F0} MB, max {soak.RssMaxMegabytes:F0} MB");
    return soak;
}

static void PrintSummary(List<RunResult> results, SessionScaleResult? scale, SoakResult? soak)
{
    Console.WriteLine();
    Console.WriteLine("| scenario | payload | sessions | req/s | vs direct | p50 ms | p95 ms | p99 ms | errors | RSS MB | CPU % |");
    Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var r in results)
    {
        var direct = results.FirstOrDefault(d => d.Scenario.StartsWith("direct", StringComparison.Ordinal) && d.Sessions == r.Sessions && d.Payload == r.Payload);
        var ratio = direct is null || direct.RequestsPerSecond == 0 ? "" : (r.RequestsPerSecond / direct.RequestsPerSecond).ToString("P0", CultureInfo.InvariantCulture);
        if (r.Failure is not null)
        {
            Console.WriteLine($"| {r.Scenario} | {r.Payload} | {r.Sessions} | failed: {r.Failure} | | | | | | | |");
            continue;
        }
        Console.WriteLine(FormattableString.Invariant($"| {r.Scenario} | {r.Payload} | {r.Sessions} | {r.RequestsPerSecond:F0} | {ratio} | {r.P50Ms:F2} | {r.P95Ms:F2} | {r.P99Ms:F2} | {r.Errors} | {r.RssMegabytes:F0} | {r.CpuPercent:F0} |"));
    }
    if (scale is not null)
        Console.WriteLine(FormattableString.Invariant($"\nSession scale: {scale.Sessions} sessions in {scale.OpenSeconds:F1} s, gateway RSS {scale.RssBeforeMegabytes:F0} -> {scale.RssAfterMegabytes:F0} MB ({scale.KilobytesPerSession:F0} KB/session)"));
    if (soak is not null)
        Console.WriteLine(FormattableString.Invariant($"Soak: {soak.Seconds:F0} s, {soak.Calls} calls, RSS {soak.RssStartMegabytes:F0} -> {soak.RssEndMegabytes:F0} MB (max {soak.RssMaxMegabytes:F0})"));
}

static async Task WaitConnectedAsync(McpProxyClient admin, string name)
{
    for (var i = 0; i < 600; i++)
    {
        if ((await admin.GetAsync(name))?.Status.State == ConnectionState.Connected) return;
        await Task.Delay(100);
    }
    throw new TimeoutException($"{name} did not connect.");
}

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

internal sealed record SessionScaleResult(int Sessions, double OpenSeconds, double RssBeforeMegabytes, double RssAfterMegabytes, double KilobytesPerSession);

internal sealed record SoakResult(double Seconds, long Calls, double RssStartMegabytes, double RssEndMegabytes, double RssMaxMegabytes);
