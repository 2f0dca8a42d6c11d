namespace McpServerless.Configuration;

public enum ChangeFeedProvider
{
    /// <summary>Subscribers in this process only: right for a single instance.</summary>
    InProcess,

    /// <summary>Redis pub/sub on one channel.</summary>
    Redis,

    /// <summary>An Azure Service Bus topic with one subscription per instance.</summary>
    ServiceBus,
}

/// <summary>How registry changes reach the other instances, bound from <c>McpProxy:ChangeFeed</c>.</summary>
public sealed class ChangeFeedOptions
{
    public const string SectionName = McpProxyOptions.SectionName + ":ChangeFeed";

    public ChangeFeedProvider Provider { get; set; } = ChangeFeedProvider.InProcess;

    public RedisChangeFeedOptions Redis { get; set; } = new();

    public ServiceBusChangeFeedOptions ServiceBus { get; set; } = new();
}

/// <summary><c>McpProxy:ChangeFeed:Redis</c>; without a configuration, the storage's Redis settings are used.</summary>
public sealed class RedisChangeFeedOptions : RedisConnectionOptions
{
    public string Channel { get; set; } = "mcpgw:changes";
}

/// <summary><c>McpProxy:ChangeFeed:ServiceBus</c>: a connection string, or a namespace reached with a managed identity.</summary>
public sealed class ServiceBusChangeFeedOptions
{
    /// <summary>Needs Manage rights: each instance creates its own subscription.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>e.g. <c>my-namespace.servicebus.windows.net</c>; authenticated with DefaultAzureCredential.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>The client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The topic, which must exist (the deployment creates it).</summary>
    public string TopicName { get; set; } = "mcp-registry-changes";

    /// <summary>An instance's subscription is deleted after this long without a receiver, so gone replicas leave nothing behind.</summary>
    public TimeSpan SubscriptionIdleTimeout { get; set; } = TimeSpan.FromHours(1);
}
