using System.Text.Json;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Shapes each downstream session. On <c>/{name}/…</c> the session presents the upstream honestly: its server
/// info, capabilities and instructions, with a <see cref="ServerRelay"/> in front of the SDK's own handlers.
/// On the aggregated endpoint it presents the gateway with tools, prompts and resources of every server the
/// caller may use (<see cref="AggregateRelay"/>).
/// </summary>
internal sealed class ProxySessionSetup(UpstreamManager upstreams, Security.AccessPolicy policy, DownstreamSessions sessions, ILoggerFactory loggerFactory)
{
    private readonly ILogger _relayLogger = loggerFactory.CreateLogger<RelayFilter>();

    private static readonly Implementation GatewayInfo = new()
    {
        Name = "mcp-serverless",
        Version = typeof(ProxySessionSetup).Assembly.GetName().Version?.ToString() ?? "1.0.0",
    };

    public Task ConfigureAsync(HttpContext context, McpServerOptions options, CancellationToken cancellationToken)
    {
        if (context.Items[typeof(UpstreamConnection)] is UpstreamConnection { Session: { } upstream } connection)
        {
            options.ServerInfo = upstream.ServerInfo ?? GatewayInfo;
            options.Capabilities = Clone(upstream.Capabilities);
            options.ServerInstructions = upstream.Instructions;
            var relay = new ServerRelay(connection.Name, upstreams, policy, _relayLogger);
            options.Filters.Message.IncomingFilters.Add(relay.Filter);
            context.Items[typeof(ServerRelay)] = relay;
        }
        else
        {
            var caller = context.Items[typeof(CallerIdentity)] as CallerIdentity ?? new CallerIdentity(null, "", null);
            options.ServerInfo = GatewayInfo;
            options.Capabilities = new ServerCapabilities
            {
                Tools = new ToolsCapability { ListChanged = true },
                Prompts = new PromptsCapability { ListChanged = true },
                Resources = new ResourcesCapability { ListChanged = true, Subscribe = true },
            };
            options.ServerInstructions = "Tools and prompts of every server behind this gateway, named {server}__{name}.";
            options.Filters.Message.IncomingFilters.Add(new AggregateRelay(upstreams, policy, caller, _relayLogger).Filter);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs a session, holding the slot it was admitted on (see <see cref="SessionAdmission"/>) until it ends. On an
    /// <c>isolateSessions</c> server a session with an id gets its own upstream connection for its lifetime; stateless
    /// (2026-07-28) requests have no session to isolate and use the shared one.
    /// </summary>
    public async Task RunAsync(HttpContext context, McpServer server, CancellationToken cancellationToken)
    {
        var name = context.GetRouteValue("name") as string ?? DownstreamSessions.Aggregate;
        // Bound before anything is awaited: the SDK calls this as it creates the session, before its id reaches the client.
        using var slot = server.SessionId is not null ? context.Items[typeof(SessionSlot)] as SessionSlot : null;
        slot?.Bind(server.SessionId!);
        // The current connection, not the one the session was admitted on: an update just before must not leave this
        // session on the old definition, as it is not yet among the sessions an update ends.
        if (context.Items[typeof(ServerRelay)] is not ServerRelay relay || server.SessionId is null
            || !upstreams.TryGet(name, out var shared) || !shared.Definition.IsolateSessions)
        {
            await sessions.RunAsync(name, server, cancellationToken);
            return;
        }

        await using var isolated = upstreams.OpenIsolated(shared);
        ValueTask ForwardAsync(UpstreamConnection _, JsonRpcNotification notification) => new(server.SendMessageAsync(notification, cancellationToken));
        isolated.Notified += ForwardAsync;
        relay.Isolated = isolated;
        await sessions.RunAsync(name, server, cancellationToken);
    }

    // Sessions must not share (and the SDK may adjust) the upstream's capability object.
    private static ServerCapabilities Clone(ServerCapabilities capabilities)
    {
        var typeInfo = McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ServerCapabilities));
        return (ServerCapabilities)JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(capabilities, typeInfo), typeInfo)!;
    }
}
