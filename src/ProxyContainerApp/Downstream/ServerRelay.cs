using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The message filter of a session opened on <c>/{name}/…</c>: requests for the upstream's features are relayed
/// as raw JSON (no typed re-serialization), and <c>tools/list</c> is answered from the connection's cached, filtered
/// list. <c>initialize</c> and <c>ping</c> stay with the SDK. The shared upstream is looked up by name on each
/// request, so an update that swaps the connection is seen at once; a session of an <c>isolateSessions</c> server
/// uses its own <see cref="Isolated"/> connection instead.
/// </summary>
internal sealed class ServerRelay(string name, IUpstreamLookup upstreams, AccessPolicy policy, RelayServices services, CallerIdentity caller)
    : RelayFilter(services, McpPeer.Downstream(RelayRoutes.Server, name), caller)
{
    protected override string Target => name;

    protected override string AuditRoute => AuditRoutes.Server;

    protected override CachePolicy Caching => upstreams.TryGet(name, out var shared)
        ? new(shared.Model.Definition.ToolsCacheTtl ?? CachePolicy.DefaultToolsTtl, policy.AdmitsAnyone(shared.Model.AccessRule))
        : default;

    /// <summary>This session's own upstream connection, or null to use the server's shared one.</summary>
    public UpstreamConnection? Isolated { get; set; }

    // Stateless callers use the shared connection (only sessions are isolated).
    protected override ListenScope Listening => new($"MCP server '{name}'",
        () => upstreams.TryGet(name, out var shared) ? [shared] : null,
        static (_, _) => true,
        _ => upstreams.TryGet(name, out var shared) ? shared : null);

    protected override async Task<JsonNode?> RelayAsync(JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var upstream = Isolated ?? (upstreams.TryGet(name, out var shared) ? shared
            : throw new UpstreamException(UpstreamError.NotRegistered, $"MCP server '{name}' is no longer registered."));

        // A session's own connection opens with the session, so its first requests may wait for it; the shared one
        // was connected when the session opened, and while it is down requests fail at once.
        if (Isolated is not null && await Isolated.WaitConnectedAsync(Isolated.Model.Timeout, cancellationToken) is null)
            throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{name}' is not connected.");

        if (request.Method == RequestMethods.ToolsList)
        {
            var tools = (upstream.Session ?? throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{name}' is not connected.")).ToolsResult;
            // The cached list is shared: a 2026-07-28 caller gets a copy to shape.
            return ResultShaper.SpeaksLatest(request, caller.Server) ? tools.DeepClone() : tools;
        }
        return await ForwardAsync(upstream, request.Method, request.Params, caller, cancellationToken);
    }
}
