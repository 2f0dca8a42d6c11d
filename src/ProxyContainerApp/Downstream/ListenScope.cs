using McpServerless.Proxy.Upstreams;
using McpServerless.VirtualServers;

namespace McpServerless.Proxy.Downstream;

/// <summary>What a <c>subscriptions/listen</c> stream on one endpoint hears of: the upstreams the endpoint shows.</summary>
/// <param name="Endpoint">The endpoint, as messages name it.</param>
/// <param name="Sources">The upstreams the endpoint shows now (connected or not); null once the endpoint itself is gone or replaced.</param>
/// <param name="Shows">Whether the endpoint shows a server's tools, prompts or resources.</param>
/// <param name="RouteResource">The upstream a resource URI of the endpoint belongs to; null when the endpoint cannot tell.</param>
internal sealed record ListenScope(
    string Endpoint,
    Func<IReadOnlyList<UpstreamConnection>?> Sources,
    Func<string, MemberKind, bool> Shows,
    Func<string, UpstreamConnection?> RouteResource);
