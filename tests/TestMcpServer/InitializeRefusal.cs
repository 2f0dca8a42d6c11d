using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.TestMcpServer;

/// <summary>
/// <c>--refuse-initialize</c>: the server answers <c>initialize</c> as a server of 2026-07-28 alone does (an
/// unsupported-version error naming the revision it speaks), so a client reaches it only through
/// <c>server/discover</c> and stateless requests.
/// </summary>
public static class InitializeRefusal
{
    public const string Flag = "--refuse-initialize";

    public static void Apply(McpServerOptions options) => options.Filters.Message.IncomingFilters.Add(next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is not JsonRpcRequest { Method: RequestMethods.Initialize } initialize)
        {
            await next(context, cancellationToken);
            return;
        }
        await context.Server.SendMessageAsync(new JsonRpcError
        {
            Id = initialize.Id,
            Error = new JsonRpcErrorDetail
            {
                Code = (int)McpErrorCode.InvalidParams,
                Message = "Unsupported protocol version",
                Data = new JsonObject { ["supported"] = new JsonArray("2026-07-28"), ["requested"] = initialize.Params?["protocolVersion"]?.DeepClone() },
            },
        }, cancellationToken);
    });
}
