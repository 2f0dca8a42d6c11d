using ModelContextProtocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>Why the gateway could not complete a request upstream. Feeds both the caller's JSON-RPC error and the <c>error.type</c> of spans and metrics.</summary>
public enum UpstreamError
{
    /// <summary>The server is no longer registered.</summary>
    NotRegistered,

    /// <summary>The connection is down (or not yet up).</summary>
    NotConnected,

    /// <summary>Too many requests are in flight to this server and waiting for a slot.</summary>
    Overloaded,

    /// <summary>No answer within the server's <c>timeout</c>.</summary>
    Timeout,

    /// <summary>The connection dropped while the request was in flight.</summary>
    ConnectionLost,

    /// <summary>The answer was larger than <c>MaxResponseBytes</c>.</summary>
    ResponseTooLarge,

    /// <summary>The upstream failed in another way (an HTTP error status, a malformed message).</summary>
    Failed,
}

/// <summary>
/// A tool the server's <c>toolFilter</c> hides was called: the caller hears "Unknown tool", as if it did not exist; the
/// audit log, for the operator, says the gateway refused it.
/// </summary>
public sealed class ToolFilteredException(string tool) : McpProtocolException($"Unknown tool: '{tool}'.", McpErrorCode.InvalidParams);

/// <summary>A request the gateway could not complete upstream; becomes a JSON-RPC error for the caller.</summary>
public sealed class UpstreamException(UpstreamError error, string message, Exception? inner = null) : Exception(message, inner)
{
    public UpstreamError Error { get; } = error;

    /// <summary>The JSON-RPC error code the caller gets: these are all the gateway's own failures, not the upstream's answers.</summary>
    public McpErrorCode Code => McpErrorCode.InternalError;

    /// <summary>The <c>error.type</c> of spans and metrics.</summary>
    public string Outcome => Error switch
    {
        UpstreamError.NotRegistered => "not_registered",
        UpstreamError.NotConnected => "not_connected",
        UpstreamError.Overloaded => "overloaded",
        UpstreamError.Timeout => "timeout",
        UpstreamError.ConnectionLost => "connection_lost",
        UpstreamError.ResponseTooLarge => "too_large",
        _ => "failed",
    };
}
