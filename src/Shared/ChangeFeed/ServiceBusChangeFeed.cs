using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using McpServerless.Configuration;
using McpServerless.Serialization;
using McpServerless.Storage;
using Microsoft.Extensions.Logging;

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
/// </summary>
public sealed partial class ServiceBusChangeFeed : IRegistryChangeFeed, IAsyncDisposable
{
    public const string ContentType = "application/json";
    public const string MalformedReason = "MalformedRegistryChange";

    // Service Bus subscription names: at most 50 letters, digits, '.', '-', '_'.
    private const int MaxSubscriptionName = 50;

    // A notice older than this describes a registry the receiver will have reconciled anyway.
    private static readonly TimeSpan NoticeTimeToLive = TimeSpan.FromMinutes(10);

    private readonly ServiceBusClient _client;
    private readonly ServiceBusAdministrationClient _administration;
    private readonly ServiceBusSender _sender;
    private readonly ServiceBusChangeFeedOptions _options;
    private readonly ChangeSubscribers _subscribers;
    private readonly AsyncOnce _receiving;
    private readonly ILogger _logger;
    private ServiceBusProcessor? _processor;

    public ServiceBusChangeFeed(ServiceBusChangeFeedOptions options, string instanceId, ILogger<ServiceBusChangeFeed> logger)
        : this(CreateClients(options), options, instanceId, logger)
    {
    }

    /// <summary>For tests: clients of the SDK's mocking surface instead of a namespace.</summary>
    internal ServiceBusChangeFeed(
        (ServiceBusClient Client, ServiceBusAdministrationClient Administration) clients,
        ServiceBusChangeFeedOptions options, string instanceId, ILogger<ServiceBusChangeFeed> logger)
    {
        _options = options;
        _logger = logger;
        (_client, _administration) = clients;
        _sender = _client.CreateSender(options.TopicName);
        _subscribers = new ChangeSubscribers(logger);
        _receiving = new AsyncOnce(StartReceivingAsync);
        SubscriptionName = ToSubscriptionName(instanceId);
    }

    /// <summary>This instance's subscription on the topic.</summary>
    public string SubscriptionName { get; }

    public async ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default) =>
        await _sender.SendMessageAsync(ToMessage(change), cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default) =>
        _subscribers.AddListeningAsync(handler, _receiving, cancellationToken);

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
        if (_processor is { } processor) await processor.DisposeAsync();
        await _sender.DisposeAsync();
        await _client.DisposeAsync();
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

    private async Task StartReceivingAsync(CancellationToken cancellationToken)
    {
        await EnsureSubscriptionAsync(cancellationToken);
        var processor = _client.CreateProcessor(_options.TopicName, SubscriptionName, new ServiceBusProcessorOptions
        {
            AutoCompleteMessages = false,
            MaxConcurrentCalls = 1,
        });
        processor.ProcessMessageAsync += SettleAsync;
        processor.ProcessErrorAsync += args =>
        {
            LogReceiveFailed(_logger, args.Exception, args.ErrorSource.ToString());
            return Task.CompletedTask;
        };
        await processor.StartProcessingAsync(cancellationToken);
        _processor = processor;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving registry changes from Service Bus failed ({ErrorSource})")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string errorSource);
}
