using System.Text.Json.Nodes;
using McpServerless.Audit;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// How one MCP operation ended, computed once and told to its span, its duration metric and the audit log:
/// <see cref="ErrorType"/> (<c>error.type</c>, null when it did not fail), <see cref="StatusCode"/>
/// (<c>rpc.response.status_code</c>, the JSON-RPC error code of the answer), <see cref="Audit"/> (the audit entry's
/// outcome) and <see cref="Message"/> (the span status description).
/// </summary>
internal readonly record struct McpOutcome(string? ErrorType, string? StatusCode, string Audit, string? Message = null)
{
    private const string InternalError = "-32603";

    public static McpOutcome Ok { get; } = new(null, null, AuditOutcomes.Ok);

    /// <summary>A <c>tools/call</c> result with <c>isError: true</c>: the call worked, the tool failed.</summary>
    public static McpOutcome ToolError { get; } = new(AuditOutcomes.ToolError, null, AuditOutcomes.ToolError);

    /// <summary>The caller cancelled: no answer follows.</summary>
    public static McpOutcome Cancelled { get; } = new(AuditOutcomes.Cancelled, null, AuditOutcomes.Cancelled);

    /// <summary><see cref="ToolError"/> for a result with <c>isError: true</c>, else <see cref="Ok"/>.</summary>
    public static McpOutcome OfResult(JsonNode? result) =>
        AuditOutcomes.Of(result) == AuditOutcomes.ToolError ? ToolError : Ok;

    /// <summary>
    /// A JSON-RPC error answer. Every code is an error to the side that sent the request; to the side that answered,
    /// the codes that say the caller sent something it could not serve are not (parse error, invalid request, method
    /// not found, invalid params, resource not found), as the conventions classify them.
    /// </summary>
    /// <param name="refused">The gateway itself refused the call (a filtered tool, too many requests in flight): the audit says <c>refused</c>.</param>
    public static McpOutcome JsonRpcError(int code, string message, bool answering, bool refused = false)
    {
        var text = AuditOutcomes.Of(code);
        var callerFault = code is -32700 or -32600 or -32601 or -32602 or -32002;
        return new(answering && callerFault ? null : text, text, refused ? AuditOutcomes.Refused : text, message);
    }

    /// <summary>
    /// The gateway could not complete a request upstream (<paramref name="errorType"/>: <c>timeout</c>,
    /// <c>not_connected</c>, ...). The caller is answered with an internal error, which the answering side reports
    /// beside the more telling error type.
    /// </summary>
    public static McpOutcome GatewayFailure(string errorType, string message, bool answering, bool refused = false) =>
        new(errorType, answering ? InternalError : null,
            refused ? AuditOutcomes.Refused : errorType == AuditOutcomes.Timeout ? AuditOutcomes.Timeout : InternalError, message);
}
