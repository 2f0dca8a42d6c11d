using System.Diagnostics;
using System.Text.Json;
using McpServerless.Audit;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using McpServerless.VirtualServers;
using Microsoft.AspNetCore.Http.Features;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Shapes each downstream session from the request's <see cref="IMcpProxyFeature"/>. On <c>/{name}/…</c> the session
/// presents the upstream honestly: its server info, capabilities and instructions, with a <see cref="ServerRelay"/> in
/// front of the SDK's own handlers. On a virtual server's <c>/{name}/…</c> it presents the virtual server: its name,
/// its description as instructions, and the members it selects (<see cref="VirtualRelay"/>). On the aggregated endpoint
/// it presents the gateway with tools, prompts and resources of every server the caller may use (<see cref="AggregateRelay"/>).
/// </summary>
internal sealed class ProxySessionSetup(IUpstreamLookup upstreams, VirtualServerCatalog virtualServers, AccessPolicy policy, DownstreamSessions sessions,
    StatelessBridge bridge, ListenStreams listens, ProxyInstruments instruments, AuditLog audit, ILoggerFactory loggerFactory)
{
    private readonly RelayServices _relayServices = new(loggerFactory.CreateLogger<RelayFilter>(), instruments, audit, bridge, listens);

    private static readonly Implementation GatewayInfo = new()
    {
        Name = "mcp-serverless",
        Version = typeof(ProxySessionSetup).Assembly.GetName().Version?.ToString() ?? "1.0.0",
    };

    public Task ConfigureAsync(HttpContext context, McpServerOptions options, CancellationToken cancellationToken)
    {
        var feature = (McpProxyFeature)context.Features.GetRequiredFeature<IMcpProxyFeature>();
        if (feature.Upstream is { } connection)
        {
            // Null only if the connection dropped since the request was admitted: its requests fail until it is back.
            var upstream = connection.Session;
            options.ServerInfo = upstream?.ServerInfo ?? GatewayInfo;
            options.Capabilities = upstream is null ? new ServerCapabilities() : Clone(upstream.Capabilities);
            options.ServerInstructions = upstream?.Instructions;
            feature.Relay = new ServerRelay(connection.Name, upstreams, policy, _relayServices, feature.Caller);
        }
        else if (feature.Virtual is { } plan)
        {
            options.ServerInfo = new Implementation { Name = plan.Name, Version = GatewayInfo.Version };
            // Fixed when the session opens; a later update that adds the first prompt or resource selector shows in new sessions.
            options.Capabilities = new ServerCapabilities
            {
                Tools = new ToolsCapability { ListChanged = true },
                Prompts = plan.SelectorsOf(MemberKind.Prompt).Count > 0 ? new PromptsCapability { ListChanged = true } : null,
                Resources = plan.SelectorsOf(MemberKind.Resource).Count > 0 ? new ResourcesCapability { ListChanged = true, Subscribe = true } : null,
            };
            options.ServerInstructions = plan.Definition.Description;
            feature.Relay = new VirtualRelay(plan.Name, virtualServers, upstreams, policy, _relayServices, feature.Caller);
        }
        else
        {
            options.ServerInfo = GatewayInfo;
            options.Capabilities = new ServerCapabilities
            {
                Tools = new ToolsCapability { ListChanged = true },
                Prompts = new PromptsCapability { ListChanged = true },
                Resources = new ResourcesCapability { ListChanged = true, Subscribe = true },
            };
            options.ServerInstructions = $"Tools and prompts of every server behind this gateway, named {{server}}{AggregateNaming.Separator}{{name}}.";
            feature.Relay = new AggregateRelay(upstreams, policy, feature.Caller, _relayServices);
        }
        options.Filters.Message.IncomingFilters.Add(feature.Relay.Filter);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs a session, holding the slot it was admitted on (see <see cref="SessionAdmission"/>) and its own upstream
    /// connections to <c>isolateSessions</c> servers (<see cref="OwnConnections"/>) until it ends; stateless
    /// (2026-07-28) requests have no session to isolate and use the shared ones.
    /// </summary>
    public async Task RunAsync(HttpContext context, McpServer server, CancellationToken cancellationToken)
    {
        var feature = (McpProxyFeature)context.Features.GetRequiredFeature<IMcpProxyFeature>();
        var name = feature.Route.Server;
        // Bound before anything is awaited: the SDK calls this as it creates the session, before its id reaches the client.
        using var slot = server.SessionId is not null ? feature.Slot : null;
        slot?.Bind(server.SessionId!);
        var started = Stopwatch.GetTimestamp();
        string? errorType = null;
        try
        {
            await using var own = OwnConnections(feature.Relay, name, server, cancellationToken);
            await sessions.RunAsync(name, server, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            errorType = ex.GetType().FullName;
            throw;
        }
        finally
        {
            // A stateless (2026-07-28) request has no session to measure.
            if (server.SessionId is not null)
            {
                var route = name == DownstreamSessions.Aggregate ? McpPeer.Downstream(RelayRoutes.Aggregated, null)
                    : feature.Virtual is not null ? McpPeer.DownstreamVirtual(name) : McpPeer.Downstream(RelayRoutes.Server, name);
                instruments.RecordSession(route, server.NegotiatedProtocolVersion, Stopwatch.GetElapsedTime(started), errorType);
            }
        }
    }

    /// <summary>
    /// The connections of its own a session holds until it ends: on an isolated server's <c>/{name}/…</c> one, opened
    /// now, to the current connection (not the one the session was admitted on: an update just before must not leave
    /// it on the old definition, as it is not yet among the sessions an update ends); on a virtual server or the
    /// aggregate, those it opens as it first calls an isolated server. None for a stateless request.
    /// </summary>
    private IAsyncDisposable? OwnConnections(RelayFilter? relay, string name, McpServer server, CancellationToken sessionEnded)
    {
        if (relay is null || server.SessionId is null) return null;
        var observer = new SessionObserver(server, sessionEnded);
        if (relay is not ServerRelay serverRelay) return relay.Own = new SessionConnections(upstreams, observer);
        if (!upstreams.TryGet(name, out var shared) || !shared.Model.Definition.IsolateSessions) return null;
        return serverRelay.Isolated = upstreams.OpenIsolated(shared, observer);
    }

    // Sessions must not share (and the SDK may adjust) the upstream's capability object.
    private static ServerCapabilities Clone(ServerCapabilities capabilities)
    {
        var typeInfo = McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ServerCapabilities));
        return (ServerCapabilities)JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(capabilities, typeInfo), typeInfo)!;
    }

    /// <summary>An isolated connection's notifications are its one session's alone; its status is reported by the shared connection.</summary>
    private sealed class SessionObserver(McpServer server, CancellationToken sessionEnded) : IUpstreamObserver
    {
        public void OnStatusChanged(UpstreamConnection connection)
        {
        }

        public ValueTask OnNotificationAsync(UpstreamConnection connection, JsonRpcNotification notification) =>
            new(server.SendMessageAsync(notification, sessionEnded));
    }
}
