using System.Text.Json.Nodes;

namespace McpServerless.Proxy;

internal static class JsonNodeExtensions
{
    /// <summary>The node's string value, or null when it is absent or not a string (peers' JSON is not trusted to be well-typed).</summary>
    public static string? AsString(this JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    /// <summary>Sets <c>_meta[key]</c> of a message's params, adding <c>_meta</c> when it has none.</summary>
    public static void SetMeta(this JsonObject parameters, string key, JsonNode? value)
    {
        if (parameters["_meta"] is not JsonObject meta) parameters["_meta"] = meta = [];
        meta[key] = value;
    }

    /// <summary>Takes <c>_meta[key]</c> out of a message's params, and <c>_meta</c> with it when that leaves it empty.</summary>
    /// <returns>False when the params held no such entry.</returns>
    public static bool TryTakeMeta(this JsonNode? parameters, string key, out JsonNode? value)
    {
        value = null;
        if (parameters?["_meta"] is not JsonObject meta || !meta.Remove(key, out value)) return false;
        if (meta.Count == 0) parameters.AsObject().Remove("_meta");
        return true;
    }
}
