using System.Text.Json;
using McpServerless.Configuration;
using McpServerless.Serialization;
using McpServerless.Storage;
using McpServerless.Storage.Redis;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace McpServerless.ChangeFeed;

/// <summary>
/// Registry changes over Redis pub/sub on one channel. Every instance subscribes once and fans the messages out
/// to its handlers. Pub/sub delivers only to instances connected at that moment; StackExchange.Redis
/// resubscribes after a reconnect, and the periodic reconcile against the store covers what was missed meanwhile.
/// </summary>
public sealed partial class RedisChangeFeed : IRegistryChangeFeed, IAsyncDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisChannel _channel;
    private readonly ChangeSubscribers _subscribers;
    private readonly AsyncOnce _listening;
    private readonly ILogger _logger;
    private ChannelMessageQueue? _queue;

    public RedisChangeFeed(RedisChangeFeedOptions options, ILogger<RedisChangeFeed> logger)
    {
        _logger = logger;
        _connection = new RedisConnection(options, logger);
        _channel = RedisChannel.Literal(options.Channel);
        _subscribers = new ChangeSubscribers(logger);
        _listening = new AsyncOnce(ListenAsync);
    }

    public async ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.Serialize(change, GatewayJson.Default.RegistryChange);
        await _connection.RunAsync(m => m.GetSubscriber().PublishAsync(_channel, json), cancellationToken);
    }

    public ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default) =>
        _subscribers.AddListeningAsync(handler, _listening.EnsureAsync, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_queue is { } queue)
        {
            try
            {
                await queue.UnsubscribeAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The server forgets the subscription with the connection anyway.
            }
        }
        await _connection.DisposeAsync();
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var queue = await _connection.RunAsync(m => m.GetSubscriber().SubscribeAsync(_channel), cancellationToken);
        // OnMessage handles one message at a time, in order.
        queue.OnMessage(message => DeliverAsync(message.Message).AsTask());
        _queue = queue;
    }

    private async ValueTask DeliverAsync(RedisValue message)
    {
        RegistryChange? change;
        try
        {
            change = JsonSerializer.Deserialize((string)message!, GatewayJson.Default.RegistryChange);
        }
        catch (JsonException ex)
        {
            LogMalformed(_logger, ex);
            return;
        }
        if (change is null || string.IsNullOrEmpty(change.Name))
        {
            LogMalformed(_logger, null);
            return;
        }
        await _subscribers.DeliverAsync(change, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed registry change message on Redis")]
    private static partial void LogMalformed(ILogger logger, Exception? exception);
}
