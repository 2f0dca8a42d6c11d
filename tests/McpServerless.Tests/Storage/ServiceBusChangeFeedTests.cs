using System.Text.Json;
using Azure;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using McpServerless.ChangeFeed;
using McpServerless.Proxy.Management;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Registry;
using McpServerless.Storage;
using McpServerless.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace McpServerless.Tests.Storage;

/// <summary>
/// No Service Bus broker or emulator can run on this machine, so the feed runs against the SDK's mocking surface:
/// messages from <see cref="ServiceBusModelFactory"/>, and client, sender, processor and receiver subclasses that
/// record what the feed asks of them, and a fake clock for the back-off. The fan-out itself is tested for real with
/// Redis pub/sub.
/// </summary>
public sealed class ServiceBusChangeFeedTests : IAsyncLifetime
{
    private readonly RecordingClient _client = new();
    private readonly RecordingAdministration _administration = new();
    private readonly ServiceBusChangeFeedOptions _options = new() { TopicName = "registry", SubscriptionIdleTimeout = TimeSpan.FromHours(1) };
    private readonly ChangeRecorder _recorder = new();
    private ServiceBusChangeFeed _feed = null!;

    public async Task InitializeAsync()
    {
        _feed = new ServiceBusChangeFeed((_client, _administration), _options, "replica-7", TimeProvider.System, NullLogger<ServiceBusChangeFeed>.Instance);
        await _feed.SubscribeAsync(_recorder.HandleAsync);
    }

    public async Task DisposeAsync() => await _feed.DisposeAsync();

    [Fact]
    public void Subscribing_creates_the_instances_own_subscription_that_deletes_itself_when_idle_and_starts_receiving()
    {
        var created = Assert.Single(_administration.Created);
        Assert.Equal("registry", created.TopicName);
        Assert.Equal("replica-7", created.SubscriptionName);
        Assert.Equal(TimeSpan.FromHours(1), created.AutoDeleteOnIdle);
        var processor = Assert.Single(_client.Processors);
        Assert.True(processor.Started);
        Assert.Equal(("registry", "replica-7"), (processor.Topic, processor.Subscription));
        Assert.False(processor.Options.AutoCompleteMessages);
    }

    [Fact]
    public async Task A_subscribe_that_fails_is_retried_with_back_off_while_the_feed_reports_not_ready_then_handlers_resync()
    {
        var time = new FakeTimeProvider();
        var client = new RecordingClient();
        // As minutes after a first deployment, when the identity's role assignment is not effective yet.
        var administration = new RecordingAdministration { FailuresLeft = 2 };
        var recorder = new ChangeRecorder();
        await using var feed = new ServiceBusChangeFeed((client, administration), _options, "replica-8", time, NullLogger<ServiceBusChangeFeed>.Instance);

        // The subscriber is not failed (the host keeps running); the feed says it does not receive.
        await using var subscription = await feed.SubscribeAsync(recorder.HandleAsync);
        Assert.Equal(1, administration.Attempts);
        Assert.Empty(client.Processors);
        Assert.Equal(HealthStatus.Unhealthy, (await HealthAsync(feed)).Status);

        // No retry before the back-off delay has passed.
        await Task.Delay(200);
        Assert.Equal(1, administration.Attempts);

        var processor = await Eventually.GetAsync(() =>
        {
            time.Advance(ServiceBusChangeFeed.MaxRetryDelay);
            return Task.FromResult(client.Processors.FirstOrDefault());
        }, p => p is { Started: true }, "the retried subscribe");
        Assert.Equal(3, administration.Attempts);
        Assert.Equal("replica-8", Assert.Single(administration.Created).SubscriptionName);
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(feed)).Status);
        // Notices published while it could not receive are lost: handlers are told to read the store again.
        Assert.Equal(RegistryChange.Resync, await recorder.NextAsync());
    }

    [Fact]
    public async Task A_subscription_deleted_under_the_feed_is_created_again_and_handlers_resync()
    {
        var first = Assert.Single(_client.Processors);
        _administration.Delete("replica-7");

        await first.RaiseErrorAsync(new ServiceBusException("The messaging entity could not be found.", ServiceBusFailureReason.MessagingEntityNotFound));

        Assert.Equal(RegistryChange.Resync, await _recorder.NextAsync());
        Assert.Equal(["replica-7", "replica-7"], _administration.Created.Select(c => c.SubscriptionName));
        Assert.True(first.Disposed);
        Assert.True(_client.Processors[1].Started);
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(_feed)).Status);
    }

    [Fact]
    public async Task Disposing_the_feed_during_its_first_subscribe_ends_the_subscriber_s_wait()
    {
        var administration = new RecordingAdministration { Unanswered = true };
        var feed = new ServiceBusChangeFeed((new RecordingClient(), administration), _options, "replica-10", TimeProvider.System, NullLogger<ServiceBusChangeFeed>.Instance);
        var subscribing = feed.SubscribeAsync(new ChangeRecorder().HandleAsync).AsTask();

        await feed.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => subscribing.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Other_receive_errors_are_left_to_the_processor_s_own_retries()
    {
        var processor = Assert.Single(_client.Processors);

        await processor.RaiseErrorAsync(new ServiceBusException("The connection was dropped.", ServiceBusFailureReason.ServiceCommunicationProblem));

        Assert.Single(_administration.Created);
        Assert.Single(_client.Processors);
        Assert.False(processor.Disposed);
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(_feed)).Status);
    }

    [Fact]
    public async Task A_gateway_whose_feed_cannot_subscribe_keeps_serving_is_not_ready_and_catches_up_once_it_can()
    {
        var time = new FakeTimeProvider();
        var client = new RecordingClient();
        var administration = new RecordingAdministration { FailuresLeft = int.MaxValue };
        await using var feed = new ServiceBusChangeFeed((client, administration), _options, "replica-9", time, NullLogger<ServiceBusChangeFeed>.Instance);
        await using var gateway = await GatewayHarness.StartAsync(
            // Long enough that only the feed's resync can explain the catch-up below.
            options => options.ReconcileInterval = TimeSpan.FromHours(1),
            configureBuilder: builder => builder.Services.Replace(ServiceDescriptor.Singleton<IRegistryChangeFeed>(feed)));

        using (var live = await gateway.Http.GetAsync("healthz/live"))
            Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
        using (var ready = await gateway.Http.GetAsync("healthz/ready"))
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        // Registered meanwhile (on this replica; in Azure, on the admin app): its notice cannot reach the replica.
        await gateway.Admin.RegisterAsync(Definitions.Stdio("files"));
        var upstreams = gateway.Proxy.Services.GetRequiredService<UpstreamManager>();
        Assert.False(upstreams.TryGet("files", out _));

        administration.FailuresLeft = 0;
        await Eventually.GetAsync(() =>
        {
            time.Advance(ServiceBusChangeFeed.MaxRetryDelay);
            return Task.FromResult(upstreams.TryGet("files", out _));
        }, held => held, "the replica to pick up what was registered while it could not receive");
        using (var ready = await gateway.Http.GetAsync("healthz/ready"))
            Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task A_valid_message_reaches_the_handlers_and_is_completed()
    {
        var message = Received("""{"name":"files","kind":"upserted","version":"7"}""");

        Assert.Equal(MessageDisposition.Complete, await _feed.HandleMessageAsync(message));
        Assert.Equal(new RegistryChange("files", RegistryChangeKind.Upserted, "7"), await _recorder.NextAsync());
    }

    [Fact]
    public async Task The_processor_settles_messages_as_HandleMessageAsync_decides()
    {
        var receiver = new RecordingReceiver();
        var processor = Assert.Single(_client.Processors);

        await processor.RaiseAsync(Received("""{"name":"files","kind":"deleted"}""", "good"), receiver);
        await processor.RaiseAsync(Received("garbage", "bad"), receiver);

        Assert.Equal(["good"], receiver.Completed);
        Assert.Equal([("bad", ServiceBusChangeFeed.MalformedReason)], receiver.DeadLettered);
    }

    [Fact]
    public async Task A_duplicate_is_delivered_again_and_completed_because_notices_are_idempotent()
    {
        var message = Received("""{"name":"files","kind":"upserted","version":"7"}""", "same-id");

        Assert.Equal(MessageDisposition.Complete, await _feed.HandleMessageAsync(message));
        Assert.Equal(MessageDisposition.Complete, await _feed.HandleMessageAsync(message));
        Assert.Equal((await _recorder.NextAsync()), await _recorder.NextAsync());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("""{"kind":"deleted"}""")]
    [InlineData("""["files"]""")]
    [InlineData("""{"name":"files","kind":"exploded"}""")]
    [InlineData("""{"name":"files","kind":"deleted","type":"gadget"}""")]
    public async Task A_body_that_is_not_a_registry_change_is_dead_lettered_and_reaches_no_handler(string body)
    {
        Assert.Equal(MessageDisposition.DeadLetter, await _feed.HandleMessageAsync(Received(body)));
        Assert.Empty(_recorder.Received);
    }

    [Fact]
    public async Task A_failing_handler_is_logged_and_the_message_still_completed()
    {
        await using var failing = await _feed.SubscribeAsync((_, _) => throw new InvalidOperationException("handler bug"));

        Assert.Equal(MessageDisposition.Complete, await _feed.HandleMessageAsync(Received("""{"name":"files","kind":"upserted"}""")));
        Assert.Equal("files", (await _recorder.NextAsync()).Name);
    }

    [Fact]
    public async Task Published_messages_carry_name_kind_version_and_type_only_never_the_definition_or_its_secrets()
    {
        var store = new InMemoryMcpStore();
        var registry = new McpRegistry(store, store, _feed, NullLogger<McpRegistry>.Instance);
        await registry.RegisterAsync(new McpDefinition
        {
            Name = "secretive",
            Transport = McpTransport.StreamableHttp,
            Url = "https://mcp.example.test/mcp",
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer header-secret" },
            AuthTokens = ["token-secret"],
        });
        await registry.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "team", Tools = ["secretive:*"], AuthTokens = ["virtual-token-secret"] });

        Assert.Equal(2, _client.Sender.Sent.Count);
        var (server, virtualServer) = (_client.Sender.Sent[0], _client.Sender.Sent[1]);
        Assert.Equal("application/json", server.ContentType);
        Assert.Equal(("secretive", "team"), (server.Subject, virtualServer.Subject));
        foreach (var body in new[] { server.Body.ToString(), virtualServer.Body.ToString() })
        {
            Assert.DoesNotContain("header-secret", body);
            Assert.DoesNotContain("token-secret", body);
        }
        // A server's notice is what it was before virtual servers existed, so replicas of an older version still read it.
        using var json = JsonDocument.Parse(server.Body.ToString());
        Assert.Equal(["name", "kind", "version"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("upserted", json.RootElement.GetProperty("kind").GetString());
        using var virtualJson = JsonDocument.Parse(virtualServer.Body.ToString());
        Assert.Equal(["name", "kind", "version", "type"], virtualJson.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("virtual-server", virtualJson.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_received_notice_names_the_kind_of_entry_to_read_again()
    {
        await _feed.HandleMessageAsync(Received("""{"name":"team","kind":"deleted","type":"virtual-server"}"""));
        await _feed.HandleMessageAsync(Received("""{"name":"files","kind":"deleted","type":"server"}"""));

        Assert.Equal(new RegistryChange("team", RegistryChangeKind.Deleted, null, RegistryEntryType.VirtualServer), await _recorder.NextAsync());
        Assert.Equal(RegistryEntryType.Server, (await _recorder.NextAsync()).Type);
    }

    [Theory]
    [InlineData("replica-7", "replica-7")]
    [InlineData("my_host.internal", "my_host.internal")]
    public void Valid_instance_ids_are_used_as_subscription_names_unchanged(string instanceId, string expected) =>
        Assert.Equal(expected, ServiceBusChangeFeed.ToSubscriptionName(instanceId));

    [Theory]
    [InlineData("pod/with:odd#chars")]
    [InlineData("-leading-and-trailing-")]
    [InlineData("a-very-long-instance-identifier-that-goes-well-past-fifty-characters")]
    [InlineData("///")]
    public void Other_instance_ids_become_valid_distinct_subscription_names(string instanceId)
    {
        var name = ServiceBusChangeFeed.ToSubscriptionName(instanceId);

        Assert.InRange(name.Length, 1, 50);
        Assert.Matches("^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", name);
        Assert.NotEqual(name, ServiceBusChangeFeed.ToSubscriptionName(instanceId + "x"));
    }

    private static Task<HealthCheckResult> HealthAsync(IHealthCheck feed) => feed.CheckHealthAsync(new HealthCheckContext());

    private static ServiceBusReceivedMessage Received(string body, string? messageId = null) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString(body), messageId: messageId ?? Guid.NewGuid().ToString(), contentType: "application/json");

    private sealed class RecordingClient : ServiceBusClient
    {
        public RecordingSender Sender { get; } = new();

        private readonly List<RecordingProcessor> _processors = [];

        public IReadOnlyList<RecordingProcessor> Processors
        {
            get
            {
                lock (_processors) return [.. _processors];
            }
        }

        public override ServiceBusSender CreateSender(string queueOrTopicName) => Sender;

        public override ServiceBusProcessor CreateProcessor(string topicName, string subscriptionName, ServiceBusProcessorOptions options)
        {
            var processor = new RecordingProcessor(topicName, subscriptionName, options);
            lock (_processors) _processors.Add(processor);
            return processor;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class RecordingSender : ServiceBusSender
    {
        public List<ServiceBusMessage> Sent { get; } = [];

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            Sent.Add(message);
            return Task.CompletedTask;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class RecordingProcessor(string topic, string subscription, ServiceBusProcessorOptions options) : ServiceBusProcessor
    {
        public string Topic => topic;

        public string Subscription => subscription;

        public ServiceBusProcessorOptions Options => options;

        public bool Started { get; private set; }

        public bool Disposed { get; private set; }

        public override Task StartProcessingAsync(CancellationToken cancellationToken = default)
        {
            Started = true;
            return Task.CompletedTask;
        }

        // DisposeAsync closes the processor.
        public override Task CloseAsync(CancellationToken cancellationToken = default)
        {
            Disposed = true;
            return Task.CompletedTask;
        }

        public Task RaiseAsync(ServiceBusReceivedMessage message, ServiceBusReceiver receiver) =>
            OnProcessMessageAsync(new ProcessMessageEventArgs(message, receiver, CancellationToken.None));

        public Task RaiseErrorAsync(Exception exception) =>
            OnProcessErrorAsync(new ProcessErrorEventArgs(exception, ServiceBusErrorSource.Receive, "test.servicebus.windows.net", $"{topic}/Subscriptions/{subscription}", "processor", CancellationToken.None));
    }

    private sealed class RecordingReceiver : ServiceBusReceiver
    {
        public List<string> Completed { get; } = [];

        public List<(string MessageId, string Reason)> DeadLettered { get; } = [];

        public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            Completed.Add(message.MessageId);
            return Task.CompletedTask;
        }

        public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, string deadLetterReason, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
        {
            DeadLettered.Add((message.MessageId, deadLetterReason));
            return Task.CompletedTask;
        }
    }

    /// <summary>Keeps which subscriptions exist; fails the first <see cref="FailuresLeft"/> calls as an identity without its role yet would.</summary>
    private sealed class RecordingAdministration : ServiceBusAdministrationClient
    {
        private readonly HashSet<string> _existing = [];
        private int _attempts;

        public List<CreateSubscriptionOptions> Created { get; } = [];

        public int FailuresLeft { get; set; }

        /// <summary>Calls wait until cancelled, as against a namespace that does not answer.</summary>
        public bool Unanswered { get; init; }

        public int Attempts => Volatile.Read(ref _attempts);

        public void Delete(string subscriptionName)
        {
            lock (_existing) _existing.Remove(subscriptionName);
        }

        public override async Task<Response<bool>> SubscriptionExistsAsync(string topicName, string subscriptionName, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _attempts);
            if (Unanswered) await Task.Delay(Timeout.Infinite, cancellationToken);
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new UnauthorizedAccessException("Unauthorized access. 'Manage' claim(s) are required to perform this operation.");
            }
            lock (_existing) return Response.FromValue(_existing.Contains(subscriptionName), null!);
        }

        public override Task<Response<SubscriptionProperties>> CreateSubscriptionAsync(CreateSubscriptionOptions options, CancellationToken cancellationToken = default)
        {
            lock (_existing)
            {
                Created.Add(options);
                _existing.Add(options.SubscriptionName);
            }
            // The feed reads nothing from the answer.
            return Task.FromResult(Response.FromValue<SubscriptionProperties>(null!, null!));
        }
    }
}
