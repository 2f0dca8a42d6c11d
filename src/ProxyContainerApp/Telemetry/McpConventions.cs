namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// Names from the OpenTelemetry semantic conventions for MCP (semantic-conventions-genai, <c>docs/gen-ai/mcp.md</c> and
/// <c>model/mcp/*.yaml</c>; Development status, followed as of <see cref="Version"/>), and the gateway's own
/// attributes, which sit in the <c>mcp_gateway.</c> namespace beside its own metrics.
/// </summary>
internal static class McpConventions
{
    /// <summary>The revision of the conventions this gateway follows: they have no release yet, so a commit.</summary>
    public const string Version = "open-telemetry/semantic-conventions-genai@0393513c908bf895e7b3ec480a2c1eb073c584af";

    public const string ServerOperationDuration = "mcp.server.operation.duration";
    public const string ClientOperationDuration = "mcp.client.operation.duration";
    public const string ServerSessionDuration = "mcp.server.session.duration";

    public const string MethodName = "mcp.method.name";
    public const string ProtocolVersion = "mcp.protocol.version";
    public const string SessionId = "mcp.session.id";
    public const string ResourceUri = "mcp.resource.uri";
    public const string ToolName = "gen_ai.tool.name";
    public const string PromptName = "gen_ai.prompt.name";
    public const string OperationName = "gen_ai.operation.name";
    public const string ExecuteTool = "execute_tool";
    public const string RequestId = "jsonrpc.request.id";
    public const string ErrorType = "error.type";
    public const string StatusCode = "rpc.response.status_code";
    public const string NetworkTransport = "network.transport";
    public const string NetworkProtocolName = "network.protocol.name";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ClientAddress = "client.address";

    /// <summary>
    /// Where a downstream request came in: <c>server</c> (<c>/{name}/…</c>), <c>virtual</c> (a virtual server's
    /// <c>/{name}/…</c>) or <c>aggregated</c> (<c>/mcp</c>, <c>/sse</c>).
    /// </summary>
    public const string GatewayRoute = "mcp_gateway.route";

    /// <summary>The registered server a request was relayed to (or, on a server's own route, opened on).</summary>
    public const string GatewayServer = "mcp_gateway.server";

    /// <summary>The virtual server a downstream request came in on; <see cref="GatewayServer"/> names the real one it went to.</summary>
    public const string GatewayVirtualServer = "mcp_gateway.virtual_server";

    /// <summary>The bucket boundaries the conventions give for every MCP duration histogram, in seconds.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
}
