using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Whoever a request is relayed for, as the upstream side sees it: where the call's progress goes and who is asked when
/// the upstream sends sampling or elicitation requests during the call. The downstream side implements it; the upstream
/// side knows nothing else of downstream sessions.
/// </summary>
public interface IUpstreamCaller
{
    /// <summary>Names the caller's session: two callers with the same key are one client. Null for a stateless (2026-07-28) request.</summary>
    string? SessionKey { get; }

    /// <summary>The revision the caller speaks, for error texts.</summary>
    string? ProtocolVersion { get; }

    /// <summary>What the caller declared it can take (sampling, elicitation), or null if unknown.</summary>
    ClientCapabilities? Capabilities { get; }

    /// <summary>The virtual server the request came through, for telemetry tags; null when it came another way.</summary>
    string? VirtualServer => null;

    ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken);

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on, but current in the revision spoken upstream.
    ValueTask<CreateMessageResult> SampleAsync(CreateMessageRequestParams request, CancellationToken cancellationToken);
#pragma warning restore MCP9005

    ValueTask<ElicitResult> ElicitAsync(ElicitRequestParams request, CancellationToken cancellationToken);
}
