using McpServerless.Configuration;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace McpServerless.Storage.Redis;

/// <summary>
/// One shared multiplexer that reconnects by itself. It is created on first use and does not fail when
/// Redis is down at that moment (<c>AbortOnConnectFail=false</c>); every command is bounded by the
/// configured timeout, and any connection or timeout failure surfaces as <see cref="McpStoreUnavailableException"/>.
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly ILogger _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;
    private int _disposed;

    public RedisConnection(RedisConnectionOptions options, ILogger logger)
    {
        _logger = logger;
        _configuration = Configure(options);
        _multiplexer = new(ConnectAsync);
    }

    /// <summary>How every connection of the gateway reaches Redis: bounded by the timeout, reconnecting by itself.</summary>
    internal static ConfigurationOptions Configure(RedisConnectionOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Configuration);
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        if (!string.IsNullOrEmpty(options.Password)) configuration.Password = options.Password;
        var timeout = (int)options.Timeout.TotalMilliseconds;
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.AsyncTimeout = timeout;
        // Retry the connection quickly after an outage rather than backing off to tens of seconds.
        configuration.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 2000);
        return configuration;
    }

    /// <summary>Runs a command, translating outages into <see cref="McpStoreUnavailableException"/>.</summary>
    public async Task<T> RunAsync<T>(Func<IConnectionMultiplexer, Task<T>> command, CancellationToken cancellationToken)
    {
        try
        {
            var multiplexer = await _multiplexer.Value.WaitAsync(cancellationToken);
            // StackExchange.Redis takes no tokens; the caller may still stop waiting.
            return await command(multiplexer).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            LogUnavailable(_logger, ex);
            throw new McpStoreUnavailableException("Redis is unreachable or did not answer in time.", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1 || !_multiplexer.IsValueCreated) return;
        try
        {
            await (await _multiplexer.Value).DisposeAsync();
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            // Nothing to release when the connection never came up.
        }
    }

    private static bool IsOutage(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException;

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration);
        multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(_logger, e.Exception, e.EndPoint?.ToString(), e.FailureType);
        multiplexer.ConnectionRestored += (_, e) => LogConnectionRestored(_logger, e.EndPoint?.ToString());
        return multiplexer;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} failed ({FailureType}); reconnecting in the background")]
    private static partial void LogConnectionFailed(ILogger logger, Exception? exception, string? endPoint, ConnectionFailureType failureType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection to {EndPoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, string? endPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A Redis command failed because Redis is unavailable")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
