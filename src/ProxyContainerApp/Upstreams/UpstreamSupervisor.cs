using System.Text.Json.Nodes;
using System.Threading.Channels;
using McpServerless.Model;
using McpServerless.Proxy.Telemetry;
using ModelContextProtocol.Protocol;
using Polly;
using Polly.Retry;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Keeps one connection's session alive: connects (the SDK handshake plus the tool list), watches the session end (a
/// stdio child exiting is seen at once), pings with MCP <c>ping</c> every <c>healthCheckInterval</c>, re-lists tools on
/// <c>tools/list_changed</c>, and with <c>autoReconnect</c> reconnects with exponential back-off and jitter (Polly) from
/// <c>reconnectDelay</c>, at most <c>maxReconnects</c> times per outage (0 = unlimited).
/// </summary>
internal sealed partial class UpstreamSupervisor(UpstreamConnection connection, TimeProvider time, ProxyInstruments instruments, ILogger logger)
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);

    // tools/list_changed arrives in the client's read loop, which the re-list's own answer must pass through: the
    // notice is only queued there and handled here. One pending notice stands for any number.
    private readonly Channel<JsonRpcNotification> _toolsChanged = Channel.CreateBounded<JsonRpcNotification>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private UpstreamModel Model => connection.Model;

    public async Task RunAsync(CancellationToken stopping)
    {
        var reconnect = Model.Definition.AutoReconnect ? ReconnectPipeline(stopping) : ResiliencePipeline.Empty;
        JsonNode? toolsBefore = null; // the last session's tool list, compared with the next one's
        while (!stopping.IsCancellationRequested)
        {
            UpstreamSession session;
            try
            {
                session = await reconnect.ExecuteAsync(ConnectOnceAsync, stopping);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var error = UpstreamFailures.Describe(connection, ex)!;
                LogGaveUp(logger, Model.Name, error);
                connection.Disconnected(ConnectionState.Error, error);
                return;
            }

            await connection.Subscriptions.RestoreAsync(session, stopping);
            // Sessions kept the old list through the outage; what changed meanwhile is news to them.
            if (toolsBefore is not null && !JsonNode.DeepEquals(toolsBefore, session.ToolsResult))
                await connection.NotifyAsync(new JsonRpcNotification { Method = NotificationMethods.ToolListChangedNotification });

            var reason = await MonitorAsync(session, stopping);
            toolsBefore = (connection.Session ?? session).ToolsResult;
            if (stopping.IsCancellationRequested) return;
            connection.Disconnected(Model.Definition.AutoReconnect ? ConnectionState.Connecting : ConnectionState.Error, reason);
            await session.Client.DisposeAsync();
            LogDisconnected(logger, Model.Name, reason);
            if (!Model.Definition.AutoReconnect) return;
        }
    }

    private ResiliencePipeline ReconnectPipeline(CancellationToken stopping) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(_ => !stopping.IsCancellationRequested),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Model.ReconnectDelay,
                MaxDelay = MaxReconnectDelay,
                MaxRetryAttempts = Model.Definition.MaxReconnects == 0 ? int.MaxValue : Model.Definition.MaxReconnects,
                OnRetry = args =>
                {
                    instruments.RecordReconnect(Model.Name);
                    var error = UpstreamFailures.Describe(connection, args.Outcome.Exception);
                    LogRetrying(logger, Model.Name, args.AttemptNumber + 1, args.RetryDelay, error);
                    connection.Connecting(error, args.AttemptNumber + 1);
                    return default;
                },
            })
            .Build();

    private async ValueTask<UpstreamSession> ConnectOnceAsync(CancellationToken stopping)
    {
        connection.Connecting(connection.Status.LastError);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(Model.Timeout);
        var client = await UpstreamClients.ConnectAsync(connection, notification => _toolsChanged.Writer.TryWrite(notification), timeout.Token);
        try
        {
            var session = new UpstreamSession(client, client.ServerInfo, client.ServerCapabilities, client.ServerInstructions,
                await UpstreamSession.ListToolsAsync(client, Model.ToolFilter, timeout.Token))
            {
                Listen = McpRevisions.IsStateless(client.NegotiatedProtocolVersion) ? new UpstreamListen(connection, client, client.ServerCapabilities) : null,
            };
            connection.Connected(session);
            LogConnected(logger, Model.Name, session.Tools.Count, client.NegotiatedProtocolVersion);
            return session;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Serves the session until it ends and returns why: the client closed, or a health check failed.</summary>
    private async Task<string> MonitorAsync(UpstreamSession session, CancellationToken stopping)
    {
        using var monitoring = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var closed = session.Client.Completion;
        var health = Model.HealthCheckInterval is { } interval ? HealthCheckAsync(session, interval, monitoring.Token) : UntilStoppedAsync(monitoring.Token);
        var listening = session.Listen?.RunAsync(time, logger, monitoring.Token) ?? Task.CompletedTask;
        try
        {
            while (true)
            {
                var relist = _toolsChanged.Reader.WaitToReadAsync(monitoring.Token).AsTask();
                var ended = await Task.WhenAny(closed, health, relist);
                if (ended == closed) return UpstreamFailures.Describe(connection, (await closed).Exception) ?? "the upstream closed the connection";
                if (ended == health) return await health;
                if (_toolsChanged.Reader.TryRead(out var notification)) await RelistAsync(session, notification, monitoring.Token);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return "stopped";
        }
        finally
        {
            await monitoring.CancelAsync();
            await listening.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private async Task RelistAsync(UpstreamSession session, JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        try
        {
            connection.ToolsChanged(session, await UpstreamSession.ListToolsAsync(session.Client, Model.ToolFilter, cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRelistFailed(logger, Model.Name, UpstreamFailures.Describe(connection, ex)!);
        }
        await connection.NotifyAsync(notification);
    }

    private static async Task<string> UntilStoppedAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return "stopped";
    }

    private async Task<string> HealthCheckAsync(UpstreamSession session, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Model.Timeout);
            string? failure = null;
            try
            {
                await session.Client.PingAsync(cancellationToken: timeout.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"health check failed: {UpstreamFailures.Describe(connection, ex)}";
            }
            connection.HealthChecked(failure is null);
            if (failure is not null)
            {
                LogUnhealthy(logger, Model.Name, failure);
                if (Model.Definition.AutoReconnect) return failure;
            }
        }
        return "stopped";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to MCP server {McpName} ({ToolCount} tools exposed, protocol {ProtocolVersion})")]
    private static partial void LogConnected(ILogger logger, string mcpName, int toolCount, string? protocolVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string mcpName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconnecting to MCP server {McpName}, attempt {Attempt} in {Delay}: {Error}")]
    private static partial void LogRetrying(ILogger logger, string mcpName, int attempt, TimeSpan delay, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up connecting to MCP server {McpName}: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string mcpName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {McpName} is unhealthy: {Failure}")]
    private static partial void LogUnhealthy(ILogger logger, string mcpName, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not relist the tools of MCP server {McpName}: {Error}")]
    private static partial void LogRelistFailed(ILogger logger, string mcpName, string error);
}
