using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Checks a 2026-07-28 <c>tools/call</c> against its tool's <c>x-mcp-header</c> parameters (SEP-2243): an annotated
/// argument in the body must come with a matching <c>Mcp-Param-{name}</c> header, plain or <c>=?base64?…?=</c>, so that
/// infrastructure routing on the header sees what the server acts on. The SDK checks this (and <c>Mcp-Method</c>,
/// <c>Mcp-Name</c>) for its own tools before it starts a response; relayed tools are not among them, so the gateway
/// checks them at the same point against the schema the upstream listed.
/// </summary>
internal static class ParamHeaders
{
    /// <summary>The tool a 2026-07-28 <c>tools/call</c> names in its <c>Mcp-Name</c> header; null for any other request.</summary>
    public static string? CalledTool(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && ResultShaper.IsLatest(request.Headers["MCP-Protocol-Version"])
        && request.Headers["Mcp-Method"].ToString().Trim() == RequestMethods.ToolsCall
            ? McpHeaderEncoder.DecodeValue(request.Headers["Mcp-Name"].ToString().Trim())
            : null;

    /// <summary>
    /// Answers <c>400</c> with a JSON-RPC <c>-32020</c> (HeaderMismatch) error and returns true when the request's
    /// <c>Mcp-Param-*</c> headers do not match the arguments of its call of <paramref name="tool"/>, named
    /// <paramref name="name"/> on this endpoint. Only the call of a tool with annotated parameters has its body read
    /// (and buffered for the SDK).
    /// </summary>
    public static async Task<bool> RejectMismatchAsync(HttpContext context, string name, Tool tool)
    {
        if (!Annotated(tool.InputSchema)) return false;
        var request = context.Request;
        request.EnableBuffering();
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return false; // the SDK answers malformed bodies
        }
        finally
        {
            request.Body.Position = 0;
        }
        if (body?["params"]?["name"].AsString() != name || Mismatch(request.Headers, tool.InputSchema, body["params"]?["arguments"]) is not { } why)
            return false; // a name that differs from Mcp-Name is the SDK's to refuse

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json";
        var error = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = body["id"]?.DeepClone(),
            ["error"] = new JsonObject { ["code"] = (int)McpErrorCode.HeaderMismatch, ["message"] = $"Header mismatch: {why}" },
        };
        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted);
        return true;
    }

    private static bool Annotated(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
        && properties.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object && (p.Value.TryGetProperty("x-mcp-header", out _) || Annotated(p.Value)));

    /// <summary>Why the headers do not match the arguments, or null when they do.</summary>
    public static string? Mismatch(IHeaderDictionary headers, JsonElement inputSchema, JsonNode? arguments) =>
        inputSchema.ValueKind == JsonValueKind.Object && inputSchema.TryGetProperty("properties", out var properties)
            ? Check(headers, properties, arguments)
            : null;

    private static string? Check(IHeaderDictionary headers, JsonElement properties, JsonNode? arguments)
    {
        if (properties.ValueKind != JsonValueKind.Object) return null;
        foreach (var property in properties.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object) continue;
            var argument = (arguments as JsonObject)?[property.Name];
            if (property.Value.TryGetProperty("properties", out var nested) && Check(headers, nested, argument) is { } inner) return inner;
            if (!property.Value.TryGetProperty("x-mcp-header", out var annotation) || annotation.ValueKind != JsonValueKind.String
                || annotation.GetString() is not { Length: > 0 } suffix)
                continue;

            var header = "Mcp-Param-" + suffix;
            var given = argument is not null && argument.GetValueKind() != JsonValueKind.Null;
            if (!headers.TryGetValue(header, out var raw))
            {
                if (given) return $"Missing required {header} header for argument '{property.Name}'.";
                continue;
            }
            if (McpHeaderEncoder.DecodeValue(raw.ToString().Trim()) is not { } sent) return $"The {header} header is not valid Base64.";
            if (given && McpHeaderEncoder.DecodeValue(McpHeaderEncoder.ConvertToHeaderValue(argument!)) is { } expected && !Same(sent, expected))
                return $"The {header} header does not match argument '{property.Name}'.";
        }
        return null;
    }

    // Numbers match by value, so "42" and "42.0" from different SDKs agree.
    private static bool Same(string sent, string expected) =>
        sent == expected || (decimal.TryParse(sent, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && decimal.TryParse(expected, NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && a == b);
}
