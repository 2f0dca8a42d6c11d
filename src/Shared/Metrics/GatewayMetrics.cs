using System.Collections.Concurrent;
using McpServerless.Bridge;

namespace McpServerless.Metrics;

/// <summary>
/// The running totals of the JSON <c>GET /admin/metrics</c> answer: HTTP requests per route and per server, and calls
/// relayed to each upstream. OpenTelemetry has the same requests as ASP.NET Core's <c>http.server.request.duration</c>;
/// the upstream calls are tallied from the measurements of <c>mcp.client.operation.duration</c> (the proxy's
/// <c>ProxyInstruments</c> listens to it). A request counts as an error when its status is 400 or higher.
/// <see cref="MeterName"/> names the gateway's meter and activity source.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "McpServerless.Gateway";

    private readonly ConcurrentDictionary<string, RequestTally> _byRoute = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RequestTally> _byMcp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UpstreamTally> _upstreams = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly PendingCallRegistry? _pendingCalls;

    /// <param name="pendingCalls">The revision bridge's parked calls, on a host that relays (null on the Functions host).</param>
    public GatewayMetrics(TimeProvider time, PendingCallRegistry? pendingCalls = null)
    {
        _time = time;
        _pendingCalls = pendingCalls;
        StartedAt = time.GetUtcNow();
    }

    public DateTimeOffset StartedAt { get; }

    public TimeSpan Uptime => _time.GetUtcNow() - StartedAt;

    public void RecordRequest(string route, string? mcpName, int statusCode)
    {
        var isError = statusCode >= 400;
        _byRoute.GetOrAdd(route, static _ => new()).Add(isError);
        if (mcpName is not null) _byMcp.GetOrAdd(mcpName, static _ => new()).Add(isError);
    }

    /// <summary>
    /// Tallies one request relayed to an upstream server (from either endpoint kind), so readers can tell the
    /// server's call rate, failures and mean latency over any interval from two snapshots.
    /// </summary>
    public void RecordUpstreamCall(string mcpName, bool failed, TimeSpan elapsed) =>
        _upstreams.GetOrAdd(mcpName, static _ => new()).Add(failed, elapsed);

    /// <summary>Stops tallying a server that was unregistered.</summary>
    public void Forget(string mcpName)
    {
        _byMcp.TryRemove(mcpName, out _);
        _upstreams.TryRemove(mcpName, out _);
    }

    public MetricsSnapshot Snapshot(int registeredMcps, int connectedMcps)
    {
        var routes = _byRoute.ToDictionary(p => p.Key, p => p.Value.Read(), StringComparer.Ordinal);
        return new MetricsSnapshot
        {
            StartedAt = StartedAt,
            UptimeSeconds = Math.Round(Uptime.TotalSeconds, 3),
            RegisteredMcps = registeredMcps,
            ConnectedMcps = connectedMcps,
            TotalRequests = routes.Values.Sum(c => c.Requests),
            TotalErrors = routes.Values.Sum(c => c.Errors),
            Routes = routes,
            Mcps = _byMcp.ToDictionary(p => p.Key, p => p.Value.Read(), StringComparer.Ordinal),
            Upstreams = _upstreams.ToDictionary(p => p.Key, p => p.Value.Read(), StringComparer.Ordinal),
            PendingBridgedCalls = _pendingCalls?.Count ?? 0,
        };
    }

    private sealed class RequestTally
    {
        private long _requests;
        private long _errors;

        public void Add(bool isError)
        {
            Interlocked.Increment(ref _requests);
            if (isError) Interlocked.Increment(ref _errors);
        }

        public RequestCounts Read() => new(Volatile.Read(ref _requests), Volatile.Read(ref _errors));
    }

    private sealed class UpstreamTally
    {
        private long _calls;
        private long _errors;
        private long _ticks;

        public void Add(bool failed, TimeSpan elapsed)
        {
            Interlocked.Increment(ref _calls);
            if (failed) Interlocked.Increment(ref _errors);
            Interlocked.Add(ref _ticks, elapsed.Ticks);
        }

        public UpstreamCallCounts Read() =>
            new(Volatile.Read(ref _calls), Volatile.Read(ref _errors), Math.Round(TimeSpan.FromTicks(Volatile.Read(ref _ticks)).TotalSeconds, 6));
    }
}

public sealed record RequestCounts(long Requests, long Errors);

/// <summary>Requests relayed to one upstream server since start: how many, how many failed or timed out, their summed duration.</summary>
public sealed record UpstreamCallCounts(long Calls, long Errors, double DurationSeconds);

public sealed record MetricsSnapshot
{
    public DateTimeOffset StartedAt { get; init; }

    public double UptimeSeconds { get; init; }

    public int RegisteredMcps { get; init; }

    public int ConnectedMcps { get; init; }

    public long TotalRequests { get; init; }

    public long TotalErrors { get; init; }

    /// <summary>Keyed by "METHOD /route/{pattern}".</summary>
    public required IReadOnlyDictionary<string, RequestCounts> Routes { get; init; }

    /// <summary>HTTP requests on a server's own endpoints (<c>/{name}/…</c>), keyed by MCP server name.</summary>
    public required IReadOnlyDictionary<string, RequestCounts> Mcps { get; init; }

    /// <summary>
    /// Requests relayed upstream, from per-server and aggregated sessions alike, keyed by MCP server name. Empty on a
    /// host without upstream connections (the Functions app).
    /// </summary>
    public IReadOnlyDictionary<string, UpstreamCallCounts> Upstreams { get; init; } = new Dictionary<string, UpstreamCallCounts>();

    /// <summary>
    /// Upstream calls of stateless (2026-07-28) callers parked until the caller retries with the input the upstream
    /// asked for (the revision bridge); each holds an upstream request open. 0 on a host without upstream connections.
    /// </summary>
    public int PendingBridgedCalls { get; init; }
}
