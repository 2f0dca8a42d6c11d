using System.Collections;
using System.Diagnostics;
using McpServerless.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace McpServerless.Tests.Telemetry;

/// <summary>
/// OpenTelemetry's in-memory exporters on a gateway, added the way a host adds its own exporter
/// (<c>services.AddOpenTelemetry().WithTracing(...)</c>): the gateway contributes its sources and meters.
/// </summary>
internal sealed class TelemetryCapture
{
    private readonly LockedList<Activity> _spans = new();
    private readonly LockedList<MetricSnapshot> _metrics = new();
    private IServiceProvider? _services;

    public void AddTo(WebApplicationBuilder builder) => builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddInMemoryExporter(_spans))
        .WithMetrics(metrics => metrics.AddInMemoryExporter(_metrics));

    public async Task<GatewayHarness> StartGatewayAsync()
    {
        var gateway = await GatewayHarness.StartAsync(configureBuilder: AddTo);
        _services = gateway.Proxy.Services;
        return gateway;
    }

    /// <summary>The ended spans of one trace (the gateway's source is process-wide, so other gateways' spans may be exported here too).</summary>
    public Task<Activity[]> SpansAsync(ActivityTraceId trace, Func<Activity[], bool> done) =>
        Eventually.GetAsync(() => Task.FromResult(_spans.Snapshot().Where(s => s.TraceId == trace).ToArray()), done, $"the spans of trace {trace}");

    public Task<Activity[]> SpansAsync(Func<Activity, bool> select, Func<Activity[], bool> done) =>
        Eventually.GetAsync(() => Task.FromResult(_spans.Snapshot().Where(select).ToArray()), done, "the spans");

    /// <summary>The points of <paramref name="metric"/> whose attributes include <paramref name="tag"/>, as of now.</summary>
    public IReadOnlyList<MetricPoint> Points(string metric, KeyValuePair<string, object?> tag)
    {
        _services!.GetRequiredService<MeterProvider>().ForceFlush();
        var latest = _metrics.Snapshot().LastOrDefault(m => m.Name == metric);
        return latest is null ? [] : [.. latest.MetricPoints.Where(p => Tags(p).Contains(tag))];
    }

    public static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags) tags[tag.Key] = tag.Value;
        return tags;
    }

    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count { get { lock (_items) return _items.Count; } }

        public bool IsReadOnly => false;

        public T[] Snapshot()
        {
            lock (_items) return [.. _items];
        }

        public void Add(T item)
        {
            lock (_items) _items.Add(item);
        }

        public void Clear()
        {
            lock (_items) _items.Clear();
        }

        public bool Contains(T item)
        {
            lock (_items) return _items.Contains(item);
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            lock (_items) _items.CopyTo(array, arrayIndex);
        }

        public bool Remove(T item)
        {
            lock (_items) return _items.Remove(item);
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>
/// Tests that record or assert trace context run alone: an activity listener is process-wide, so one test's tracer would
/// make every other gateway in the process record spans, and a gateway meant to record nothing would record.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    public const string Name = "Tracing";
}
