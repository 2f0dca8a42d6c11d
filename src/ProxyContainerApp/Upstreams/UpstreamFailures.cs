using ModelContextProtocol.Client;

namespace McpServerless.Proxy.Upstreams;

/// <summary>Says what went wrong with an upstream, in words a caller and an operator can act on, with secrets redacted.</summary>
internal static class UpstreamFailures
{
    /// <summary>The error a request the upstream did not answer with a result or a JSON-RPC error ends with.</summary>
    public static UpstreamException Classify(UpstreamConnection connection, string method, Exception ex, bool timedOut)
    {
        var name = connection.Name;
        if (ex is OperationCanceledException && timedOut)
            return new(UpstreamError.Timeout, $"MCP server '{name}' did not answer {method} within {Serialization.GoDuration.Format(connection.Model.Timeout)}.");
        if (Find<UpstreamMessageTooLargeException>(ex) is not null)
            return new(UpstreamError.ResponseTooLarge, TooLarge(connection.Model), ex);
        if (Find<HttpRequestException>(ex) is { StatusCode: { } status } http)
            return new(UpstreamError.Failed, $"MCP server '{name}' answered HTTP {(int)status} ({connection.Redact(http.Message)}) during {method}.", ex);
        if (Find<TimeoutException>(ex) is not null)
            return new(UpstreamError.Timeout, $"MCP server '{name}' did not answer in time during {method}.", ex);
        // The SDK cancels the calls of a session whose transport closed.
        if (ex is IOException or ObjectDisposedException or OperationCanceledException or ClientTransportClosedException || ex.InnerException is IOException || connection.Session is null)
            return new(UpstreamError.ConnectionLost, $"MCP server '{name}' lost its connection during {method}.", ex);
        return new(UpstreamError.Failed, $"MCP server '{name}' failed ({Describe(connection, ex)}) during {method}.", ex);
    }

    /// <summary>A failure for status and logs: "timed out" for a cancelled connect, else the redacted message.</summary>
    public static string? Describe(UpstreamConnection connection, Exception? ex) => ex switch
    {
        null => null,
        OperationCanceledException => "timed out",
        _ => connection.Redact(ex.Message),
    };

    public static string TooLarge(UpstreamModel model) =>
        $"MCP server '{model.Name}' answered with a message over MaxResponseBytes ({model.MaxResponseBytes} bytes); the call was ended.";

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found) return found;
        }
        return null;
    }
}
