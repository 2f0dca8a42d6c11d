using System.Text.Json.Nodes;
using McpServerless.Model;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Whoever a request is relayed for, as the upstream side sees it: where the call's progress goes, who is asked when
/// the upstream needs sampling, elicitation or roots during the call, and whether it takes a 2026-07-28 upstream's
/// input-required results itself. The downstream side implements it; the upstream side knows nothing else of
/// downstream sessions.
/// </summary>
public interface IUpstreamCaller
{
    /// <summary>Names the caller's session: two callers with the same key are one client. Null for a stateless (2026-07-28) request.</summary>
    string? SessionKey { get; }

    /// <summary>The revision the caller speaks.</summary>
    string? ProtocolVersion { get; }

    /// <summary>What the caller declared it can take (sampling, elicitation, roots), or null if unknown.</summary>
    ClientCapabilities? Capabilities { get; }

    /// <summary>
    /// The caller speaks 2026-07-28, so a 2026-07-28 upstream's input-required results reach it unchanged; a caller of
    /// an earlier revision is asked with real requests instead (see <see cref="InputRequiredRounds"/>).
    /// </summary>
    bool TakesInputRequiredResults => McpRevisions.IsStateless(ProtocolVersion);

    /// <summary>
    /// The caller's call is parked, waiting for the caller to come back (the revision bridge): a server-to-client
    /// request that arrives meanwhile is more likely another call's (see <see cref="CallerCalls.SoleCaller"/>).
    /// </summary>
    bool IsSuspended => false;

    ValueTask NotifyAsync(JsonRpcNotification notification, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the caller what an upstream's <c>sampling/createMessage</c>, <c>elicitation/create</c> or <c>roots/list</c>
    /// asks, as raw JSON both ways: the params as the upstream sent them, the result as the caller gave it.
    /// </summary>
    /// <exception cref="ModelContextProtocol.McpProtocolException">The caller refused or cannot be asked.</exception>
    ValueTask<JsonNode?> AskAsync(string method, JsonNode? parameters, CancellationToken cancellationToken);
}
