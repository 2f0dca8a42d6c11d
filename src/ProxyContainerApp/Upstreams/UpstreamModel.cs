using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams.Auth;
using McpServerless.Security;
using McpServerless.Storage;

namespace McpServerless.Proxy.Upstreams;

/// <summary>How many requests one upstream connection carries at once, how many more may wait, and its largest message by default.</summary>
public sealed record UpstreamLimits(int MaxConcurrentRequests, int QueuedRequests, long MaxResponseBytes);

/// <summary>
/// What a stored definition says about one upstream, compiled once per version: transport, access rule, tool filter,
/// timeouts, limits and the secrets to keep out of error texts. Immutable; an update builds a new model (and a new
/// connection), so nothing here changes under a request.
/// </summary>
public sealed class UpstreamModel
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DefaultHealthCheckInterval = TimeSpan.FromSeconds(30);

    /// <param name="credential">The token source of the definition's <c>upstreamAuth</c>, shared by the server's connections; null for none.</param>
    public UpstreamModel(StoredMcp stored, UpstreamLimits limits, UpstreamTokenSource? credential)
    {
        Credential = credential;
        Definition = stored.Definition;
        Version = stored.Version;
        Limits = limits;
        AccessRule = McpAccessRule.From(Definition);
        ToolFilter = new ToolFilterMatcher(Definition.ToolFilter);
        Secrets = SecretRedactor.For(Definition);
        Peer = McpPeer.Upstream(Definition);
    }

    public string Name => Definition.Name;

    public McpDefinition Definition { get; }

    public string Version { get; }

    public UpstreamLimits Limits { get; }

    public McpAccessRule AccessRule { get; }

    /// <summary>The tools of this upstream a caller may see and call; applied by <see cref="UpstreamConnection"/> alone.</summary>
    public ToolFilterMatcher ToolFilter { get; }

    /// <summary>The token presented upstream for <c>upstreamAuth</c>; null for none.</summary>
    public UpstreamTokenSource? Credential { get; }

    /// <summary>The definition's header and env values: an upstream may echo them in an error, which is kept, returned and logged without them.</summary>
    public SecretRedactor Secrets { get; }

    /// <summary>What spans and metrics say of this upstream: its name, transport, address and port.</summary>
    internal McpPeer Peer { get; }

    /// <summary>Bounds connecting and every request.</summary>
    public TimeSpan Timeout => Definition.Timeout ?? DefaultTimeout;

    /// <summary>The largest message taken from this upstream: the server's own <c>maxResponseBytes</c>, else the gateway's limit.</summary>
    public long MaxResponseBytes => Definition.MaxResponseBytes ?? Limits.MaxResponseBytes;

    public TimeSpan ReconnectDelay => Definition.ReconnectDelay ?? DefaultReconnectDelay;

    /// <summary>How often to ping, or null when health checks are off.</summary>
    public TimeSpan? HealthCheckInterval => Definition.HealthCheckEnabled ? Definition.HealthCheckInterval ?? DefaultHealthCheckInterval : null;
}
