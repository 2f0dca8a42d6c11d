using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace McpServerless.Bench;

/// <summary>
/// <c>--tracing-cost</c>: what the relay's telemetry costs one relayed <c>tools/call</c> (its SERVER and CLIENT
/// operations: spans when something records, trace context into the upstream's <c>_meta</c>, both duration histograms
/// and the upstream tally), in-process and single-threaded, so the time per call is CPU time. With no exporter the
/// gateway records no span and only passes the caller's context on; the last row is a tracer provider with no
/// exporter, which records every span and sends it nowhere. The histograms are listened to in every row, as
/// <c>/metrics</c> listens to them in the gateway. Best of many batches, so a busy machine shows the cost, not its queueing.
/// </summary>
internal static class TracingCost
{
    private const int Rounds = 200;
    private const int Calls = 2000;

    public static void Print()
    {
        using var meters = ListenToMeters();
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<ProxyInstruments>();
        using var provider = services.BuildServiceProvider();
        var instruments = provider.GetRequiredService<ProxyInstruments>();
        var callerContext = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

        var floor = Measure(instruments, Params(meta: null), httpTraceParent: null);
        var cases = new (string Name, Func<(double Nanoseconds, long Bytes)> Run)[]
        {
            ("no exporter, context in _meta (passed on)", () => Measure(instruments, Params(new JsonObject { ["traceparent"] = callerContext }), httpTraceParent: null)),
            ("no exporter, HTTP traceparent (into _meta)", () => Measure(instruments, Params(meta: null), httpTraceParent: callerContext)),
            ("tracer provider, no exporter (records spans)", () =>
            {
                using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(GatewayMetrics.MeterName).Build();
                return Measure(instruments, Params(new JsonObject { ["traceparent"] = callerContext }), httpTraceParent: null);
            }),
        };
        Console.WriteLine($"{"telemetry of one relayed tools/call",-48} {"ns/call",8} {"over floor",10} {"bytes/call",10}");
        Console.WriteLine($"{"no exporter, caller sends no context (floor)",-48} {floor.Nanoseconds,8:F0} {"",10} {floor.Bytes,10}");
        foreach (var (name, run) in cases)
        {
            var (cost, bytes) = run();
            Console.WriteLine($"{name,-48} {cost,8:F0} {cost - floor.Nanoseconds,10:F0} {bytes,10}");
        }
        Console.WriteLine($"(CPU time per call on one thread, best of {Rounds} x {Calls} calls; the relayed call itself costs the gateway ~100 µs)");
    }

    private static (double Nanoseconds, long Bytes) Measure(ProxyInstruments instruments, JsonObject parameters, string? httpTraceParent)
    {
        // ASP.NET Core's request activity, made for no listener: its parent is the caller's traceparent header, if any.
        using var request = new Activity("Microsoft.AspNetCore.Hosting.HttpRequestIn");
        if (httpTraceParent is not null) request.SetParentId(httpTraceParent);
        request.Start();
        var upstream = McpPeer.Upstream(new McpDefinition { Name = "files", Transport = McpTransport.StreamableHttp, Url = "http://127.0.0.1:9000/mcp" });
        var downstream = McpPeer.Downstream(RelayRoutes.Server, "files");
        var best = double.MaxValue;
        Relay(instruments, parameters, upstream, downstream, Calls); // warm-up
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        Relay(instruments, parameters, upstream, downstream, Calls);
        allocated = (GC.GetAllocatedBytesForCurrentThread() - allocated) / Calls;
        for (var round = 0; round < Rounds; round++)
        {
            var started = Stopwatch.GetTimestamp();
            Relay(instruments, parameters, upstream, downstream, Calls);
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalNanoseconds / Calls);
        }
        return (best, allocated);
    }

    private static void Relay(ProxyInstruments instruments, JsonObject parameters, McpPeer upstream, McpPeer downstream, int calls)
    {
        var id = new RequestId(7);
        var hadMeta = parameters.ContainsKey("_meta");
        for (var i = 0; i < calls; i++)
        {
            var server = instruments.StartServer(RequestMethods.ToolsCall, "read_file", parameters, id, downstream, "2025-11-25", "9f86d081", "127.0.0.1");
            JsonNode? relayed = parameters;
            var client = instruments.StartClient(RequestMethods.ToolsCall, "read_file", ref relayed, upstream, "2025-11-25", "2c26b46b");
            client.Complete(McpOutcome.Ok);
            server.Complete(McpOutcome.Ok);
            if (!hadMeta) parameters.Remove("_meta"); // the next call arrives without it, as the first did
        }
    }

    private static JsonObject Params(JsonObject? meta)
    {
        var parameters = new JsonObject { ["name"] = "read_file", ["arguments"] = new JsonObject { ["path"] = "/tmp/a" } };
        if (meta is not null) parameters["_meta"] = meta;
        return parameters;
    }

    private static MeterListener ListenToMeters()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => { });
        listener.Start();
        return listener;
    }
}
