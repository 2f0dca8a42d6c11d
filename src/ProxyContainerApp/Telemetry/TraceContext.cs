using System.Diagnostics;
using System.Text.Json.Nodes;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// Trace context in MCP <c>params._meta</c> (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>), as the conventions
/// carry it, read and written with the process's <see cref="DistributedContextPropagator"/> (W3C by default, the one
/// ASP.NET Core and <see cref="HttpClient"/> use for headers).
/// </summary>
internal static class TraceContext
{
    private const string Meta = "_meta";
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";
    private const string Baggage = "baggage";

    /// <summary>The context a caller sent in <c>params._meta</c>, or default when it sent none (or an invalid one).</summary>
    public static ActivityContext Extract(JsonNode? parameters, out IEnumerable<KeyValuePair<string, string?>>? baggage)
    {
        baggage = null;
        if (parameters is not JsonObject { } obj || obj[Meta] is not JsonObject meta || !meta.ContainsKey(TraceParent)) return default;
        var propagator = DistributedContextPropagator.Current;
        propagator.ExtractTraceIdAndState(meta, Read, out var traceParent, out var traceState);
        if (!ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context)) return default;
        baggage = propagator.ExtractBaggage(meta, Read);
        return context;
    }

    /// <summary>
    /// Writes into <paramref name="parameters"/>' <c>_meta</c> the context the next hop continues: <paramref name="span"/>'s,
    /// replacing what the caller sent. With no span (nothing records here) the gateway is transparent, as OpenTelemetry
    /// is without an SDK: a caller's <c>_meta</c> context goes on as it is, and failing that the context of its HTTP
    /// request (the <c>traceparent</c> header ASP.NET Core read), so the next hop's span is the caller's span's child.
    /// </summary>
    /// <returns>The parameters, created when there were none and there is a context to carry.</returns>
    public static JsonNode? Inject(Activity? span, JsonNode? parameters)
    {
        if (span is null)
        {
            if (parameters is JsonObject { } given && given[Meta] is JsonObject meta && meta.ContainsKey(TraceParent)) return parameters;
            if (Activity.Current is not { } ambient) return parameters;
            // A request span some listener records (a host that traces HTTP but not MCP) is a real parent. An activity
            // ASP.NET Core made for no listener is not: its flags are merely the caller's, and its id leads nowhere.
            if (ambient.Recorded && ambient.Source.HasListeners()) span = ambient;
            else return ambient.ParentSpanId == default ? parameters : PassOn(ambient, parameters);
        }
        var target = MetaOf(ref parameters);
        target.Remove(TraceParent);
        target.Remove(TraceState);
        target.Remove(Baggage);
        DistributedContextPropagator.Current.Inject(span, target, Write);
        return parameters;
    }

    // An unrecorded ASP.NET Core request activity: its parent is what the caller's traceparent header said.
    private static JsonNode PassOn(Activity ambient, JsonNode? parameters)
    {
        var meta = MetaOf(ref parameters);
        meta[TraceParent] = $"00-{ambient.TraceId.ToHexString()}-{ambient.ParentSpanId.ToHexString()}-{(byte)ambient.ActivityTraceFlags:x2}";
        if (ambient.TraceStateString is { Length: > 0 } state) meta[TraceState] = state;
        else meta.Remove(TraceState);
        var baggage = string.Join(',', ambient.Baggage.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value ?? "")}"));
        if (baggage.Length > 0) meta[Baggage] = baggage;
        else meta.Remove(Baggage);
        return parameters!;
    }

    private static JsonObject MetaOf(ref JsonNode? parameters)
    {
        var obj = parameters as JsonObject ?? new JsonObject();
        parameters = obj;
        if (obj[Meta] is JsonObject meta) return meta;
        meta = [];
        obj[Meta] = meta;
        return meta;
    }

    private static void Read(object? carrier, string name, out string? value, out IEnumerable<string>? values)
    {
        values = null;
        value = ((JsonObject)carrier!)[name].AsString();
    }

    private static void Write(object? carrier, string name, string value) => ((JsonObject)carrier!)[name] = value;
}
