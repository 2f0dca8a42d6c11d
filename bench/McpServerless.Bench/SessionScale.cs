using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using ModelContextProtocol.Client;

namespace McpServerless.Bench;

/// <summary>
/// Concurrent streamable-HTTP sessions on one server of a fresh gateway whose <c>MaxSessionsPerServer</c> is exactly
/// their number: every session must open, the gateway must count them all, one more must be refused with 503, and
/// every session must still answer a call. Reports the gateway's resident memory before and after.
/// </summary>
internal static class SessionScale
{
    public static async Task<SessionScaleResult> RunAsync(GatewayProcess gateway, string server, int count)
    {
        var endpoint = new Uri(gateway.BaseAddress, $"{server}/stream");
        Console.WriteLine($"Opening {count} concurrent sessions on {endpoint.AbsolutePath} of a fresh gateway (PID {gateway.Process.Id}, limit {count}) ...");
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        // One connection pool for all sessions, as one busy client host would have: each session's GET stream holds a
        // connection; calls share the rest.
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) });

        // JIT and pools warm before the baseline, so the per-session figure is the sessions' own memory.
        var warmup = await OpenAsync(endpoint, 50, http, bound.Token);
        await CallEachAsync(warmup.Clients, bound.Token);
        await CloseAsync(warmup.Clients);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = ProcStat.ResidentBytes(gateway.Process.Id);

        var watch = Stopwatch.StartNew();
        var (clients, openErrors) = await OpenAsync(endpoint, count, http, bound.Token);
        try
        {
            var openSeconds = watch.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(2)); // let the GET streams settle before reading memory
            var after = ProcStat.ResidentBytes(gateway.Process.Id);
            var held = await gateway.ActiveSessionsAsync(server);
            var beyondLimit = await InitializeStatusAsync(http, endpoint, bound.Token);
            var callErrors = await CallEachAsync(clients, bound.Token);

            var result = new SessionScaleResult(count, clients.Count, openErrors, openSeconds, held, (int)beyondLimit, callErrors,
                before / 1048576.0, after / 1048576.0, (after - before) / 1024.0 / Math.Max(1, clients.Count));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.Opened}/{count} sessions open in {result.OpenSeconds:F1} s ({openErrors} failed); the gateway counts {held}; one more gets {beyondLimit:D} {beyondLimit}; calls on every session: {callErrors} errors; gateway RSS {result.RssBeforeMegabytes:F0} MB -> {result.RssAfterMegabytes:F0} MB ({result.KilobytesPerSession:F0} KB per session)"));
            return result;
        }
        finally
        {
            await CloseAsync(clients);
        }
    }

    private static async Task<(List<McpClient> Clients, int Errors)> OpenAsync(Uri endpoint, int count, HttpClient http, CancellationToken cancellationToken)
    {
        var clients = new List<McpClient>(count);
        var errors = 0;
        for (var opened = 0; opened < count; opened += 50)
        {
            var batch = await Task.WhenAll(Enumerable.Range(0, Math.Min(50, count - opened)).Select(async _ =>
            {
                try
                {
                    return await LoadDriver.ConnectAsync(endpoint, HttpTransportMode.StreamableHttp, cancellationToken, http);
                }
                catch (Exception ex) when (ex is ModelContextProtocol.McpException or HttpRequestException or IOException)
                {
                    Interlocked.Increment(ref errors);
                    return null;
                }
            }));
            clients.AddRange(batch.OfType<McpClient>());
        }
        return (clients, errors);
    }

    private static async Task<int> CallEachAsync(IReadOnlyList<McpClient> clients, CancellationToken cancellationToken)
    {
        var errors = 0;
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (client, ct) =>
        {
            try
            {
                var result = await client.CallToolAsync(Payload.Echo.Tool, Payload.Echo.Arguments, cancellationToken: ct);
                if (result.IsError == true) Interlocked.Increment(ref errors);
            }
            catch (Exception ex) when (ex is ModelContextProtocol.McpException or HttpRequestException or IOException)
            {
                Interlocked.Increment(ref errors);
            }
        });
        return errors;
    }

    private static async Task CloseAsync(IReadOnlyList<McpClient> clients) =>
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (client, _) => await client.DisposeAsync());

    /// <summary>The status a new session's <c>initialize</c> gets: 503 once the gateway holds its limit.</summary>
    private static async Task<HttpStatusCode> InitializeStatusAsync(HttpClient http, Uri endpoint, CancellationToken cancellationToken)
    {
        const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1.0"}}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(Initialize, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return response.StatusCode;
    }
}

/// <param name="Held">Sessions the gateway itself reports open on the server (its metrics), after all were opened.</param>
/// <param name="StatusBeyondLimit">What one more <c>initialize</c> got: 503 when the limit holds.</param>
internal sealed record SessionScaleResult(
    int Sessions, int Opened, int OpenErrors, double OpenSeconds, long? Held, int StatusBeyondLimit, int CallErrors,
    double RssBeforeMegabytes, double RssAfterMegabytes, double KilobytesPerSession)
{
    public bool Passed => Opened == Sessions && OpenErrors == 0 && CallErrors == 0 && Held == Sessions && StatusBeyondLimit == 503;
}
