using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// A 2026-07-28 upstream's input-required results. The SDK client resolves them itself whenever it sees one (it calls
/// its own sampling, elicitation and roots handlers and retries, with no opt-out), which would answer every caller's
/// questions with the gateway's. So the connection hides them from the SDK as they arrive (<see cref="Conceal"/>), and
/// the call decides (<see cref="CompleteAsync"/>): a caller that speaks 2026-07-28 gets the result as the upstream sent
/// it, keys and the upstream's own <c>requestState</c> included, and the gateway holds nothing; a caller of an earlier
/// revision is asked each request with a real one, and the gateway retries upstream with the answers, round after round.
/// </summary>
internal static class InputRequiredRounds
{
    /// <summary>As many rounds as the SDK itself allows one call.</summary>
    public const int MaxRounds = 10;

    private const string ResultType = "resultType";
    private const string InputRequired = "input_required";

    // What the SDK sees instead: to it, any other value is a complete result.
    private const string Concealed = "mcpserverless/input_required";

    /// <summary>Hides an input-required result from the SDK client; runs in its read loop, before it looks.</summary>
    public static void Conceal(JsonRpcMessage message)
    {
        if (message is JsonRpcResponse { Result: JsonObject result } && IsType(result, InputRequired)) result[ResultType] = Concealed;
    }

    /// <summary>
    /// The response for <paramref name="caller"/>: as it came when it is complete or the caller takes input-required
    /// results; otherwise the final result after asking the caller and retrying upstream (<paramref name="retry"/>
    /// sends the request again with the params given).
    /// </summary>
    public static async Task<JsonRpcResponse> CompleteAsync(JsonRpcResponse response, JsonNode? parameters, IUpstreamCaller? caller,
        Func<JsonNode, CancellationToken, Task<JsonRpcResponse>> retry, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            if (response.Result is not JsonObject result || !IsType(result, Concealed)) return response;
            result[ResultType] = InputRequired;
            if (caller is null || caller.TakesInputRequiredResults) return response;
            if (round > MaxRounds)
                throw new McpProtocolException($"The upstream asked for input more than {MaxRounds} times in one call.", McpErrorCode.InternalError);

            var next = parameters?.DeepClone() as JsonObject ?? [];
            next["inputResponses"] = await AskAsync(caller, result["inputRequests"], cancellationToken);
            if (result["requestState"] is JsonValue state) next["requestState"] = state.DeepClone();
            else next.Remove("requestState");
            response = await retry(next, cancellationToken);
        }
    }

    // Every request of a round at once, as the SDK resolves them: a user may be asked while a model samples.
    private static async Task<JsonObject> AskAsync(IUpstreamCaller caller, JsonNode? inputRequests, CancellationToken cancellationToken)
    {
        if (inputRequests is not JsonObject requests)
            throw new McpProtocolException("The upstream sent an input-required result without inputRequests.", McpErrorCode.InternalError);
        var asked = new List<(string Key, Task<JsonNode?> Answer)>(requests.Count);
        foreach (var (key, request) in requests)
        {
            if (request?["method"] is not JsonValue method || !method.TryGetValue<string>(out var name))
                throw new McpProtocolException($"The upstream's input request '{key}' names no method.", McpErrorCode.InternalError);
            asked.Add((key, caller.AskAsync(name, request["params"]?.DeepClone(), cancellationToken).AsTask()));
        }
        await Task.WhenAll(asked.Select(a => a.Answer));
        var responses = new JsonObject();
        foreach (var (key, answer) in asked) responses[key] = answer.Result;
        return responses;
    }

    private static bool IsType(JsonObject result, string type) =>
        result.TryGetPropertyValue(ResultType, out var value) && value is JsonValue text && text.TryGetValue<string>(out var found) && found == type;
}
