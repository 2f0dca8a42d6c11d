using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// A downstream request as the upstream side sees its caller: the SDK's request-bound server object, which writes to
/// that request's own stream (a streamable-HTTP POST's answer stream), so progress and server-to-client requests
/// reach the call that caused them.
/// </summary>
internal sealed class DownstreamCaller(McpServer server, JsonRpcRequest request) : IUpstreamCaller
{
    public McpServer Server => server;

    /// <summary>
    /// The upstream this request was last sent to (<see cref="RelayFilter.ForwardAsync"/> notes it): on a routed call,
    /// the server that answered (or failed).
    /// </summary>
    public string? Upstream { get; set; }

    public string? SessionKey => server.SessionId;

    /// <summary>The request's own revision (2026-07-28 requests name theirs), else the session's.</summary>
    public string? ProtocolVersion => request.Context?.ProtocolVersion ?? server.NegotiatedProtocolVersion;

    public ClientCapabilities? Capabilities => server.ClientCapabilities;

    public bool TakesInputRequiredResults => McpRevisions.IsStateless(ProtocolVersion);

    public ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken) =>
        new(server.SendMessageAsync(notification, cancellationToken));

    public async ValueTask<JsonNode?> AskAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        // A stateless request has no session to send requests on; its tool calls, prompts and reads are bridged
        // instead (see StatelessBridge), so only a request of another method gets here.
        if (server.SessionId is null)
            throw new McpProtocolException($"This request is stateless (protocol {ProtocolVersion}) and cannot take {method}.", McpErrorCode.InvalidRequest);
        return (await server.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters }, cancellationToken)).Result;
    }
}
