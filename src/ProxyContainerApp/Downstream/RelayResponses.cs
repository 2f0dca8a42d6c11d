using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>Answers a downstream request from a relayed upstream result, turning every failure into a JSON-RPC error.
    /// The filter's server is bound to the request's transport, so a streamable-HTTP reply lands on its POST.
    /// </summary>
internal static class RelayResponses
{
    public static async Task AnswerAsync(MessageContext context, JsonRpcRequest request, Func<CancellationToken, Task<JsonNode?>> produce, CancellationToken cancellationToken)
    {
        JsonRpcMessage reply;
        try
        {
            reply = new JsonRpcResponse { Id = request.Id, Result = await produce(cancellationToken) };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // The caller cancelled; MCP says no response follows.
        }
        catch (McpProtocolException ex)
        {
            reply = Error(request, ex.ErrorCode, ex.Message);
        }
        catch (UpstreamException ex)
        {
            reply = Error(request, ex.Code, ex.Message);
        }
        await context.Server.SendMessageAsync(reply, cancellationToken);
    }

    public static JsonRpcError Error(JsonRpcRequest request, McpErrorCode code, string message) =>
        new() { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } };
}
