using McpServerless.ChangeFeed;
using McpServerless.Configuration;
using McpServerless.Model;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace McpServerless.Tests.Storage;

/// <summary>Two gateway instances' feeds on one real Redis: the fan-out the Service Bus feed also promises.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisChangeFeedTests(RedisFixture redis) : IAsyncLifetime
{
    private readonly RedisChangeFeedOptions _options = new()
    {
        Configuration = redis.Server.Configuration,
        Channel = $"changes-{Guid.NewGuid():N}",
        Timeout = TimeSpan.FromSeconds(2),
    };

    private RedisChangeFeed _instanceA = null!;
    private RedisChangeFeed _instanceB = null!;

    public Task InitializeAsync()
    {
        _instanceA = new RedisChangeFeed(_options, NullLogger<RedisChangeFeed>.Instance);
        _instanceB = new RedisChangeFeed(_options, NullLogger<RedisChangeFeed>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _instanceA.DisposeAsync();
        await _instanceB.DisposeAsync();
    }

    [Fact]
    public async Task A_change_published_by_one_instance_reaches_the_other_and_itself()
    {
        var onB = new ChangeRecorder();
        var onA = new ChangeRecorder();
        await using var subscriptionB = await _instanceB.SubscribeAsync(onB.HandleAsync);
        await using var subscriptionA = await _instanceA.SubscribeAsync(onA.HandleAsync);

        await _instanceA.PublishAsync(new RegistryChange("files", RegistryChangeKind.Upserted, "42"));
        await _instanceA.PublishAsync(new RegistryChange("files", RegistryChangeKind.Deleted, null));
        await _instanceA.PublishAsync(new RegistryChange("team", RegistryChangeKind.Upserted, "43", RegistryEntryType.VirtualServer));

        Assert.Equal(new RegistryChange("files", RegistryChangeKind.Upserted, "42"), await onB.NextAsync());
        Assert.Equal(new RegistryChange("files", RegistryChangeKind.Deleted, null), await onB.NextAsync());
        Assert.Equal(new RegistryChange("team", RegistryChangeKind.Upserted, "43", RegistryEntryType.VirtualServer), await onB.NextAsync());
        Assert.Equal("42", (await onA.NextAsync()).Version);
    }

    [Fact]
    public async Task A_disposed_subscription_receives_nothing_more_while_others_still_do()
    {
        var leaving = new ChangeRecorder();
        var staying = new ChangeRecorder();
        var subscription = await _instanceB.SubscribeAsync(leaving.HandleAsync);
        await using var stays = await _instanceB.SubscribeAsync(staying.HandleAsync);
        await _instanceA.PublishAsync(new RegistryChange("one", RegistryChangeKind.Upserted, "1"));
        await leaving.NextAsync();
        await staying.NextAsync();

        await subscription.DisposeAsync();
        await _instanceA.PublishAsync(new RegistryChange("two", RegistryChangeKind.Upserted, "2"));

        // Delivery is in order per instance, so once "two" reached the staying handler it had its chance at the other.
        Assert.Equal("two", (await staying.NextAsync()).Name);
        Assert.Equal(["one"], leaving.Received.Select(c => c.Name));
    }

    [Fact]
    public async Task A_failing_handler_or_a_malformed_message_does_not_stop_delivery()
    {
        var recorder = new ChangeRecorder();
        await using var failing = await _instanceB.SubscribeAsync((_, _) => throw new InvalidOperationException("handler bug"));
        await using var recording = await _instanceB.SubscribeAsync(recorder.HandleAsync);
        await using (var raw = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration))
        {
            await raw.GetSubscriber().PublishAsync(RedisChannel.Literal(_options.Channel), "not json at all");
            await raw.GetSubscriber().PublishAsync(RedisChannel.Literal(_options.Channel), """{"kind":"deleted"}""");
        }

        await _instanceA.PublishAsync(new RegistryChange("after", RegistryChangeKind.Upserted, "3"));

        Assert.Equal("after", (await recorder.NextAsync()).Name);
        await _instanceA.PublishAsync(new RegistryChange("again", RegistryChangeKind.Upserted, "4"));
        Assert.Equal("again", (await recorder.NextAsync()).Name);
    }
}
