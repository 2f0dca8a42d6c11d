using McpServerless.Model;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// The fixed attributes of one side of an MCP hop, computed once rather than per request: an upstream server (its
/// transport, address and port) or a downstream route (where callers came in). A boxed port and interned strings
/// keep recording free of allocation.
/// </summary>
internal sealed class McpPeer
{
    private McpPeer(string transport, string? protocolName, string? route, string? server, string? address, object? port, string? virtualServer = null)
    {
        Transport = transport;
        ProtocolName = protocolName;
        Route = route;
        Server = server;
        Address = address;
        Port = port;
        VirtualServer = virtualServer;
    }

    /// <summary><c>network.transport</c>: <c>tcp</c> for HTTP, <c>pipe</c> for stdio.</summary>
    public string Transport { get; }

    /// <summary><c>network.protocol.name</c>: <c>http</c>, or null for stdio.</summary>
    public string? ProtocolName { get; }

    /// <summary><c>mcp_gateway.route</c> of a downstream side; null upstream.</summary>
    public string? Route { get; }

    /// <summary><c>mcp_gateway.server</c>: the upstream, or the server a per-server route names; null on the aggregate and a virtual server until a call is routed.</summary>
    public string? Server { get; }

    /// <summary><c>mcp_gateway.virtual_server</c>: the virtual server a downstream route names; null elsewhere.</summary>
    public string? VirtualServer { get; }

    /// <summary><c>server.address</c> and <c>server.port</c> of an HTTP upstream.</summary>
    public string? Address { get; }

    public object? Port { get; }

    public static McpPeer Upstream(McpDefinition definition)
    {
        if (definition.Transport == McpTransport.Stdio || !Uri.TryCreate(definition.Url, UriKind.Absolute, out var url))
            return new("pipe", null, null, definition.Name, null, null);
        return new("tcp", "http", null, definition.Name, url.IdnHost, url.Port);
    }

    /// <summary>A downstream client the gateway sends a request to (sampling, elicitation), on whichever route it came in.</summary>
    public static McpPeer DownstreamClient { get; } = new("tcp", "http", null, null, null, null);

    /// <summary>A downstream route (always HTTP): <paramref name="route"/> is a <see cref="RelayRoutes"/> value.</summary>
    public static McpPeer Downstream(string route, string? server) => new("tcp", "http", route, server, null, null);

    /// <summary>A virtual server's downstream route: the real server of each call is known once it is routed.</summary>
    public static McpPeer DownstreamVirtual(string virtualServer) => new("tcp", "http", RelayRoutes.Virtual, null, null, null, virtualServer);
}

/// <summary>The values of <c>mcp_gateway.route</c>.</summary>
internal static class RelayRoutes
{
    public const string Server = "server";
    public const string Aggregated = "aggregated";
    public const string Virtual = "virtual";
}
