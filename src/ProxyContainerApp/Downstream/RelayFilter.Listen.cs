using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

internal abstract partial class RelayFilter
{
    // A listen stream closed by its caller (its normal end) gets no answer; one the gateway ends gets an error saying
    // why. Measured as one operation, as long as the stream.
    private async Task ListenAsync(MessageContext context, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        var operation = StartMeasuring(context, request, request.Method, target: null);
        var outcome = McpOutcome.Ok;
        JsonRpcError reply;
        try
        {
            await services.Listens.ListenAsync(Listening, context.Server, request, cancellationToken);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (McpProtocolException ex)
        {
            outcome = McpOutcome.JsonRpcError((int)ex.ErrorCode, ex.Message, answering: true);
            reply = Error(request, ex.ErrorCode, ex.Message);
        }
        catch (UpstreamException ex)
        {
            outcome = McpOutcome.GatewayFailure(ex.Outcome, ex.Message, answering: true);
            reply = Error(request, ex.Code, ex.Message);
        }
        finally
        {
            operation.Complete(outcome);
        }
        // Not the request's token: the gateway may have cancelled it to end the stream.
        await context.Server.SendMessageAsync(reply, CancellationToken.None);
    }
}
