using System.Net;
using Microsoft.AspNetCore.Http;

namespace McpServerless.Security;

/// <summary>
/// Finds the address of the real client. <c>X-Forwarded-For</c> is read only when the direct peer is a
/// trusted proxy, and then from the right: the first address that is not itself a trusted proxy is the
/// client, so entries a client wrote on the left cannot impersonate anyone. A hop that is not a canonical
/// address (see <see cref="IpAllowList.TryParseAddress"/>) yields null (unknown), which no allow-list accepts.
/// </summary>
public sealed class ClientIpResolver(IpAllowList trustedProxies)
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    public IPAddress? Resolve(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null) return null;
        peer = IpAllowList.Normalize(peer);
        if (trustedProxies.IsEmpty || !trustedProxies.Contains(peer)) return peer;

        var forwarded = context.Request.Headers[ForwardedForHeader];
        var client = peer;
        for (var i = forwarded.Count - 1; i >= 0; i--)
        {
            var hops = forwarded[i].AsSpan();
            while (!hops.IsEmpty)
            {
                var comma = hops.LastIndexOf(',');
                var hop = hops[(comma + 1)..].Trim();
                hops = comma < 0 ? [] : hops[..comma];
                if (hop.IsEmpty) continue;
                if (!IpAllowList.TryParseAddress(hop, out var address)) return null;
                client = IpAllowList.Normalize(address);
                if (!trustedProxies.Contains(client)) return client;
            }
        }
        return client;
    }
}
