using McpServerless.Proxy.Upstreams;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// A downstream request as the upstream side sees its caller: the SDK's request-bound server object, which writes to
/// that request's own stream (a streamable-HTTP POST's answer stream), so progress and server-to-client requests
/// reach the call that caused them.
/// </summary>
internal sealed class DownstreamCaller(McpServer server, string? virtualServer) : IUpstreamCaller
{
    public McpServer Server => server;

    public string? SessionKey => server.SessionId;

    public string? ProtocolVersion => server.NegotiatedProtocolVersion;

    public ClientCapabilities? Capabilities => server.ClientCapabilities;

    public string? VirtualServer => virtualServer;

    public ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken) =>
        new(server.SendMessageAsync(notification, cancellationToken));

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on, but current for the session clients that get it.
    public ValueTask<CreateMessageResult> SampleAsync(CreateMessageRequestParams request, CancellationToken cancellationToken) =>
        server.SampleAsync(request, cancellationToken);
#pragma warning restore MCP9005

    public ValueTask<ElicitResult> ElicitAsync(ElicitRequestParams request, CancellationToken cancellationToken) =>
        server.ElicitAsync(request, cancellationToken);
}
