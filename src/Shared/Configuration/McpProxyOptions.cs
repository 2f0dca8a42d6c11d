namespace McpServerless.Configuration;

/// <summary>
/// Gateway settings, bound from the <c>McpProxy</c> configuration section (appsettings.json,
/// <c>McpProxy__AdminTokens__0</c> environment variables, <c>--McpProxy:Port=9000</c> arguments).
/// The names follow the original Go gateway's <c>Config</c>.
/// </summary>
public sealed class McpProxyOptions
{
    public const string SectionName = "McpProxy";

    /// <summary>Listen address: an IP, "localhost", or "0.0.0.0" / "*" for every interface.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (read the bound address from the host).</summary>
    public int Port { get; set; } = 8081;

    /// <summary>Public base URL used when the gateway writes absolute URLs (the SSE <c>endpoint</c> event).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>
    /// Host names the gateway answers to (any port; <c>*.example.com</c> for subdomains, <c>*</c> for any). Empty: the
    /// loopback names and the listen address, or any host when listening on every interface. The host of
    /// <see cref="BaseUrl"/> is always added. A request for any other Host gets 400 (DNS-rebinding protection).
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Browser origins (<c>https://inspector.example.com</c>) admitted besides the gateway's own, with CORS. A request
    /// whose <c>Origin</c> is neither gets 403.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bearer tokens for the admin API. Empty: the admin API answers loopback clients only.</summary>
    public List<string> AdminTokens { get; set; } = [];

    /// <summary>Addresses or CIDR ranges allowed to call the admin API. Empty: any (subject to tokens).</summary>
    public List<string> AdminAllowIPs { get; set; } = [];

    /// <summary>Proxies whose <c>X-Forwarded-For</c> is believed.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Bearer tokens accepted on every proxy endpoint. Empty: only per-server rules apply.</summary>
    public List<string> GlobalAuthTokens { get; set; } = [];

    /// <summary>A JSON file in the common <c>mcpServers</c> format whose servers are registered at start.</summary>
    public string? ServersFile { get; set; }

    /// <summary>How often a proxy instance compares its live connections with the store, besides the change feed.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Names this instance: in the status it reports and as its own Service Bus subscription. Unique per replica;
    /// defaults to host name and process id.
    /// </summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public GatewayLimits Limits { get; set; } = new();

    /// <summary>OAuth 2.1 access tokens on the MCP endpoints and the admin API (<c>McpProxy:OAuth</c>); off until an authority is set.</summary>
    public Security.OAuth.OAuthOptions OAuth { get; set; } = new();

    /// <summary>Largest admin request body accepted, in bytes.</summary>
    public int MaxAdminBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Bounds that keep one client or one upstream from exhausting the gateway (<c>McpProxy:Limits</c>).</summary>
public sealed class GatewayLimits
{
    /// <summary>Largest request body on any endpoint, in bytes (JSON-RPC messages included).</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Open downstream sessions per server (and on the aggregated endpoint); more get 503.</summary>
    public int MaxSessionsPerServer { get; set; } = 1000;

    /// <summary>
    /// Open downstream sessions one caller may hold per server (and on the aggregated endpoint); more get 503. A caller
    /// is its bearer token, or its address when it sends none.
    /// </summary>
    public int MaxSessionsPerCaller { get; set; } = 100;

    /// <summary>
    /// How long a streamable-HTTP session may go without a request (an open GET stream counts as one) before the
    /// gateway ends it, with its isolated upstream connection. A legacy SSE session lasts as long as its stream.
    /// </summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Largest single message the gateway takes from an upstream, in bytes (a server's <c>maxResponseBytes</c> may
    /// override it); a larger one ends the call it answers with a JSON-RPC error.
    /// </summary>
    public long MaxResponseBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Requests one upstream connection carries at once.</summary>
    public int MaxConcurrentUpstreamRequests { get; set; } = 256;

    /// <summary>Requests that may wait for one of those slots; beyond that a call fails at once with a JSON-RPC error.</summary>
    public int QueuedUpstreamRequests { get; set; } = 1024;

    /// <summary>
    /// Calls one stateless caller may have waiting for its input through the revision bridge (each holds an upstream
    /// request open until answered or its server's <c>timeout</c>); when one more starts waiting, the caller's oldest is
    /// given up, most likely one it abandoned (its retry is told so).
    /// </summary>
    public int MaxParkedCallsPerCaller { get; set; } = 16;

    /// <summary>Admin API requests per client address per minute; more get 429.</summary>
    public int AdminRequestsPerMinute { get; set; } = 600;
}
