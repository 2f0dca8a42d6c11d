using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using McpServerless.Configuration;
using McpServerless.Serialization;
using McpServerless.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace McpServerless.ChangeFeed;

/// <summary>What becomes of a received message once its handlers ran.</summary>
public enum MessageDisposition
{
    /// <summary>Done with: delivered (handler failures are logged; the reconcile loop covers them) or harmless.</summary>
    Complete,

    /// <summary>Not a registry change: redelivering cannot help, so it is parked for a human.</summary>
    DeadLetter,
}

/// <summary>
/// Registry changes over an Azure Service Bus topic. Publishers send to the topic; each instance receives through
/// its own subscription, created at its first subscribe and named after its instance id. The subscription deletes
/// itself after <see cref="ServiceBusChangeFeedOptions.SubscriptionIdleTimeout"/> without a receiver, so replicas
/// that are gone leave nothing behind. Notices are small and carry no definition, so duplicates and redeliveries
/// are harmless: receivers read the store.
/// <para>
/// Receiving never stops the host. A subscribe that fails (the identity's role not yet effective minutes after a
/// deployment, the namespace unreachable) is retried with exponential back-off while the feed reports unhealthy
/// (<c>/healthz/ready</c>); a subscription that disappears (deleted after a long partition, or by hand) is created
/// again. Whenever receiving starts after such a gap, handlers get <see cref="RegistryChange.Resync"/>, since
/// notices published meanwhile are lost.
/// </para>
/// </summary>
public sealed partial class ServiceBusChangeFeed : IRegistryChangeFeed, IHealthCheck, IAsyncDisposable
{
    public const string ContentType = "application/json";
    public const string MalformedReason = "MalformedRegistryChange";

    /// <summary>The longest wait between two subscribe attempts.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    // Service Bus subscription names: at most 50 letters, digits, '.', '-', '_'.
    private const int MaxSubscriptionName = 50;

    // A notice older than this describes a registry the receiver will have reconciled anyway.
    private static readonly TimeSpan NoticeTimeToLive = TimeSpan.FromMinutes(10);

    private readonly ServiceBusClient _client;
    private readonly ServiceBusAdministrationClient _administration;
    private readonly ServiceBusSender _sender;
    private readonly ServiceBusChangeFeedOptions _options;
    private readonly ChangeSubscribers _subscribers;
    private readonly ResiliencePipeline _retry;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _startGate = new();
    private Task? _receiving;
    private ServiceBusProcessor? _processor;

    // Why this instance does not receive right now; null before anything subscribed and while receiving.
    private volatile string? _notReceiving;

    // Set by a failed attempt or a lost subscription: notices may have been missed since.
    private volatile bool _missedNotices;

    public ServiceBusChangeFeed(ServiceBusChangeFeedOptions options, string instanceId, TimeProvider time, ILogger<ServiceBusChangeFeed> logger)
        : this(CreateClients(options), options, instanceId, time, logger)
    {
    }

    /// <summary>For tests: clients of the SDK's mocking surface instead of a namespace.</summary>
    internal ServiceBusChangeFeed(
        (ServiceBusClient Client, ServiceBusAdministrationClient Administration) clients,
        ServiceBusChangeFeedOptions options, string instanceId, TimeProvider time, ILogger<ServiceBusChangeFeed> logger)
    {
        _options = options;
        _logger = logger;
        (_client, _administration) = clients;
        _sender = _client.CreateSender(options.TopicName);
        _subscribers = new ChangeSubscribers(logger);
        SubscriptionName = ToSubscriptionName(instanceId);
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = MaxRetryDelay,
                OnRetry = args =>
                {
                    var error = args.Outcome.Exception!;
                    _notReceiving = error.Message;
                    _missedNotices = true;
                    _firstAttempt.TrySetResult();
                    LogSubscribeFailed(_logger, error, SubscriptionName, _options.TopicName, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>This instance's subscription on the topic.</summary>
    public string SubscriptionName { get; }

    public async ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default) =>
        await _sender.SendMessageAsync(ToMessage(change), cancellationToken);

    /// <summary>
    /// Adds the handler and returns once the first attempt to receive has succeeded or failed; a failure does not
    /// throw, it is retried in the background (see the class remarks).
    /// </summary>
    public ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default) =>
        _subscribers.AddListeningAsync(handler, FirstAttemptAsync, cancellationToken);

    /// <summary>Unhealthy while this instance was asked to receive and cannot; healthy otherwise (a publisher only never receives).</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_notReceiving is { } reason
            ? HealthCheckResult.Unhealthy($"Not receiving registry changes on subscription {SubscriptionName}: {reason}")
            : HealthCheckResult.Healthy());

    /// <summary>
    /// Delivers one received message to this instance's handlers and says how to settle it: a registry change is
    /// delivered and completed, even when a handler fails (it is logged; redelivery would only repeat the failure);
    /// a duplicate is delivered again, which is harmless; a body that is not a registry change is dead-lettered.
    /// </summary>
    public async Task<MessageDisposition> HandleMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
    {
        var change = TryRead(message.Body);
        if (change is null)
        {
            LogMalformed(_logger, message.MessageId);
            return MessageDisposition.DeadLetter;
        }
        await _subscribers.DeliverAsync(change, cancellationToken);
        return MessageDisposition.Complete;
    }

    /// <summary>The message for a change: its JSON (name, kind, version) and nothing else.</summary>
    public static ServiceBusMessage ToMessage(RegistryChange change) =>
        new(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(change, GatewayJson.Default.RegistryChange)))
        {
            ContentType = ContentType,
            Subject = change.Name,
            TimeToLive = NoticeTimeToLive,
        };

    /// <summary>A valid subscription name for an instance id: invalid characters become '-', long ids keep a hash suffix.</summary>
    public static string ToSubscriptionName(string instanceId)
    {
        var name = new string([.. instanceId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-')]).Trim('.', '-', '_');
        if (name.Length == 0 || name.Length > MaxSubscriptionName || name != instanceId)
        {
            // Distinct ids that sanitize alike must not share a subscription.
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(instanceId)))[..8];
            name = $"{name[..Math.Min(name.Length, MaxSubscriptionName - 9)]}-{hash}".TrimStart('-');
        }
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_receiving is { } receiving) await receiving;
        if (_processor is { } processor) await processor.DisposeAsync();
        await _sender.DisposeAsync();
        await _client.DisposeAsync();
        _stopping.Dispose();
    }

    private static (ServiceBusClient, ServiceBusAdministrationClient) CreateClients(ServiceBusChangeFeedOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            return (new ServiceBusClient(options.ConnectionString), new ServiceBusAdministrationClient(options.ConnectionString));
        var credential = AzureCredentials.Create(options.ManagedIdentityClientId);
        return (new ServiceBusClient(options.FullyQualifiedNamespace, credential),
            new ServiceBusAdministrationClient(options.FullyQualifiedNamespace, credential));
    }

    private static RegistryChange? TryRead(BinaryData body)
    {
        try
        {
            var change = JsonSerializer.Deserialize(body.ToMemory().Span, GatewayJson.Default.RegistryChange);
            return string.IsNullOrEmpty(change?.Name) ? null : change;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private ValueTask FirstAttemptAsync(CancellationToken cancellationToken)
    {
        lock (_startGate)
        {
            if (_receiving is null)
            {
                _notReceiving = "subscribing";
                _receiving = ReceiveAsync(_stopping.Token);
            }
        }
        return new ValueTask(_firstAttempt.Task.WaitAsync(cancellationToken));
    }

    /// <summary>Receives until disposed: subscribes (retried), then waits for the subscription to be lost, and again.</summary>
    private async Task ReceiveAsync(CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                var (processor, lost) = await _retry.ExecuteAsync(StartReceivingAsync, stopping);
                _processor = processor;
                _notReceiving = null;
                _firstAttempt.TrySetResult();
                if (_missedNotices)
                {
                    _missedNotices = false;
                    await _subscribers.DeliverAsync(RegistryChange.Resync, stopping);
                }

                await lost.WaitAsync(stopping);
                _notReceiving = "the subscription was deleted; creating it again";
                _missedNotices = true;
                LogSubscriptionLost(_logger, SubscriptionName, _options.TopicName);
                _processor = null;
                await processor.DisposeAsync();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed before the first attempt ended: a subscriber still waiting for it must not wait forever.
            _firstAttempt.TrySetCanceled(stopping);
        }
    }

    /// <summary>Ensures the subscription and starts a processor on it; the task completes when the subscription is found gone.</summary>
    private async ValueTask<(ServiceBusProcessor Processor, Task Lost)> StartReceivingAsync(CancellationToken cancellationToken)
    {
        await EnsureSubscriptionAsync(cancellationToken);
        var processor = _client.CreateProcessor(_options.TopicName, SubscriptionName, new ServiceBusProcessorOptions
        {
            AutoCompleteMessages = false,
            MaxConcurrentCalls = 1,
        });
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        processor.ProcessMessageAsync += SettleAsync;
        processor.ProcessErrorAsync += args =>
        {
            // The processor retries everything else by itself, but not a subscription that no longer exists.
            if (args.Exception is ServiceBusException { Reason: ServiceBusFailureReason.MessagingEntityNotFound }) lost.TrySetResult();
            else LogReceiveFailed(_logger, args.Exception, args.ErrorSource.ToString());
            return Task.CompletedTask;
        };
        try
        {
            await processor.StartProcessingAsync(cancellationToken);
        }
        catch
        {
            await processor.DisposeAsync();
            throw;
        }
        return (processor, lost.Task);
    }

    private async Task EnsureSubscriptionAsync(CancellationToken cancellationToken)
    {
        if (await _administration.SubscriptionExistsAsync(_options.TopicName, SubscriptionName, cancellationToken)) return;
        try
        {
            await _administration.CreateSubscriptionAsync(new CreateSubscriptionOptions(_options.TopicName, SubscriptionName)
            {
                AutoDeleteOnIdle = _options.SubscriptionIdleTimeout,
                DefaultMessageTimeToLive = NoticeTimeToLive,
            }, cancellationToken);
            LogSubscriptionCreated(_logger, SubscriptionName, _options.TopicName);
        }
        catch (ServiceBusException ex) when (ex.Reason == ServiceBusFailureReason.MessagingEntityAlreadyExists)
        {
            // A previous run of this instance created it between the check and the create.
        }
    }

    private async Task SettleAsync(ProcessMessageEventArgs args)
    {
        var disposition = await HandleMessageAsync(args.Message, args.CancellationToken);
        if (disposition == MessageDisposition.DeadLetter)
            await args.DeadLetterMessageAsync(args.Message, MalformedReason, "The body is not a registry change.", args.CancellationToken);
        else
            await args.CompleteMessageAsync(args.Message, args.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created Service Bus subscription {Subscription} on topic {Topic}")]
    private static partial void LogSubscriptionCreated(ILogger logger, string subscription, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered Service Bus message {MessageId}: its body is not a registry change")]
    private static partial void LogMalformed(ILogger logger, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe as {Subscription} to Service Bus topic {Topic} (attempt {Attempt}); retrying in {Delay}")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, string subscription, string topic, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Service Bus subscription {Subscription} on topic {Topic} is gone; creating it again and re-reading the registry")]
    private static partial void LogSubscriptionLost(ILogger logger, string subscription, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving registry changes from Service Bus failed ({ErrorSource})")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string errorSource);
}
