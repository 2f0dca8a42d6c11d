using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// The reserved <c>io.modelcontextprotocol/…</c> request metadata on the upstream hop. It describes the downstream hop
/// (the caller's version, client info and capabilities), so it is removed; a 2026-07-28 upstream gets the caller's
/// capabilities back in it, the upstream hop's version and client info being the SDK client's to add. That upstream
/// then asks only what the caller can answer (SEP-2322), instead of what the gateway could.
/// </summary>
internal static class UpstreamHop
{
    private const string ReservedPrefix = "io.modelcontextprotocol/";
    private const string CapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";

    public static void Prepare(JsonNode? parameters, IUpstreamCaller? caller, bool statelessUpstream)
    {
        var meta = parameters?["_meta"] as JsonObject;
        JsonNode? declared = null;
        if (meta is not null)
        {
            if (statelessUpstream) declared = meta[CapabilitiesKey]?.DeepClone();
            for (var i = meta.Count - 1; i >= 0; i--)
            {
                if (meta.GetAt(i).Key.StartsWith(ReservedPrefix, StringComparison.Ordinal)) meta.RemoveAt(i);
            }
        }
        if (!statelessUpstream || parameters is not JsonObject request) return;
        declared ??= caller?.Capabilities is { } capabilities
            ? JsonSerializer.SerializeToNode(capabilities, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ClientCapabilities)))
            : new JsonObject();
        request.SetMeta(CapabilitiesKey, declared);
    }
}
