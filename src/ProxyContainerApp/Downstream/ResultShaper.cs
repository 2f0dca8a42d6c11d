using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Gives a relayed result the wire format of the revision its caller speaks. The SDK adds what 2026-07-28 requires
/// to the results of its own handlers, but relayed results are upstream JSON that bypasses them (the upstream hop
/// may speak 2025-11-25), so this type adds it: <c>resultType: "complete"</c> on every result, and the caching hints
/// <c>ttlMs</c> and <c>cacheScope</c> on list and read results. Callers of earlier revisions get the upstream's
/// JSON without copy or re-serialisation, less those three fields when a 2026-07-28 upstream sent them.
/// </summary>
internal static class ResultShaper
{
    private const string FirstStatelessRevision = "2026-07-28";

    private static readonly string[] LatestOnlyFields = ["resultType", "ttlMs", "cacheScope"];

    /// <summary>Whether <paramref name="request"/> is answered in the 2026-07-28 format (a per-request version, or the session's).</summary>
    public static bool SpeaksLatest(JsonRpcRequest request, McpServer server) =>
        IsLatest(request.Context?.ProtocolVersion ?? server.NegotiatedProtocolVersion);

    /// <summary>Whether <paramref name="version"/> is 2026-07-28 or later: stateless, with per-request metadata.</summary>
    public static bool IsLatest(string? version) =>
        version is not null && string.CompareOrdinal(version, FirstStatelessRevision) >= 0; // revisions are dates, so they order as text

    /// <summary>
    /// Shapes <paramref name="result"/>, which the caller owns (it is changed in place), for a 2026-07-28 caller of
    /// <paramref name="method"/>. Hints the upstream set are kept, except that its <c>public</c> scope becomes
    /// <c>private</c> when <paramref name="caching"/> says the endpoint is not open to everyone.
    /// </summary>
    public static JsonNode? ForLatest(JsonNode? result, string method, CachePolicy caching)
    {
        if (result is not JsonObject shaped) return result;
        // An input-required result (bridged, or a 2026-07-28 upstream's) is not the answer yet: nothing to cache.
        if (!shaped.TryAdd("resultType", "complete") && shaped["resultType"].AsString() == "input_required") return shaped;
        if (!IsCacheable(method)) return shaped;

        if (method == RequestMethods.ToolsList)
        {
            // Answered from the gateway's own list, whose freshness the gateway knows.
            shaped["ttlMs"] = (long)caching.ToolsTtl.TotalMilliseconds;
            shaped["cacheScope"] = caching.Public ? "public" : "private";
        }
        else
        {
            // The upstream's own hints, if it gave any; otherwise stale at once.
            shaped.TryAdd("ttlMs", 0);
            if (!caching.Public || shaped["cacheScope"].AsString() is not ("public" or "private")) shaped["cacheScope"] = "private";
        }
        return shaped;
    }

    /// <summary>
    /// Takes out of <paramref name="result"/> (changed in place) the fields a 2025-11-25 caller does not know, which a
    /// 2026-07-28 upstream puts on its results. A result without them, such as the shared cached tool list, is left as is.
    /// </summary>
    public static JsonNode? ForEarlier(JsonNode? result)
    {
        if (result is JsonObject shaped)
            foreach (var field in LatestOnlyFields) shaped.Remove(field);
        return result;
    }

    /// <summary>
    /// An upstream error in 2026-07-28 terms: an unknown resource is <c>-32602</c> naming the <c>uri</c> (SEP-2164),
    /// where earlier revisions used <c>-32002</c>.
    /// </summary>
    public static (McpErrorCode Code, JsonObject? Data) ErrorForLatest(JsonRpcRequest request, McpErrorCode code, JsonObject? data)
    {
        if (code != McpErrorCode.ResourceNotFound) return (code, data);
        data ??= [];
        if (request.Params?["uri"] is JsonValue uri) data.TryAdd("uri", uri.DeepClone());
        return (McpErrorCode.InvalidParams, data);
    }

    private static bool IsCacheable(string method) => method is RequestMethods.ToolsList or RequestMethods.PromptsList
        or RequestMethods.ResourcesList or RequestMethods.ResourcesTemplatesList or RequestMethods.ResourcesRead;
}

/// <summary>
/// The caching hints the gateway can stand behind for one endpoint. <see cref="ToolsTtl"/>: how long its tool list may be
/// cached (the gateway's copy is refreshed on <c>list_changed</c>). <see cref="Public"/>: whether a shared cache may serve
/// the answers to anyone, which holds only when the endpoint admits anyone; otherwise a shared cache could hand a
/// protected server's answers to a caller the gateway would refuse.
/// </summary>
internal readonly record struct CachePolicy(TimeSpan ToolsTtl, bool Public)
{
    public static readonly TimeSpan DefaultToolsTtl = TimeSpan.FromMinutes(1);
}
