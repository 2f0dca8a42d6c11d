using System.Text.Json.Nodes;
using ModelContextProtocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The <c>data</c> of an upstream's JSON-RPC error, which the SDK client keeps as the exception's <see cref="Exception.Data"/>
/// entries (strings, numbers and booleans as such, anything else as <see cref="System.Text.Json.JsonElement"/>); null when it sent none.
/// </summary>
internal static class UpstreamErrorData
{
    public static JsonObject? Of(McpProtocolException ex)
    {
        if (ex.Data.Count == 0) return null;
        var data = new JsonObject();
        foreach (System.Collections.DictionaryEntry entry in ex.Data)
        {
            if (entry.Key is not string key) continue;
            data[key] = entry.Value switch
            {
                System.Text.Json.JsonElement element => JsonNode.Parse(element.GetRawText()),
                string text => text,
                double number => number,
                bool flag => flag,
                _ => null,
            };
        }
        return data;
    }
}
