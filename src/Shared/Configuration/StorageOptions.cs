namespace McpServerless.Configuration;

public enum StorageProvider
{
    /// <summary>A process-local dictionary: one instance, nothing survives a restart.</summary>
    InMemory,

    /// <summary>Redis (StackExchange.Redis): several instances, low latency.</summary>
    Redis,

    /// <summary>Azure Table Storage (or Azurite): several instances, no server to run.</summary>
    Table,
}

/// <summary>Where the registry lives, bound from <c>McpProxy:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string SectionName = McpProxyOptions.SectionName + ":Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.InMemory;

    public RedisStoreOptions Redis { get; set; } = new();

    public TableStoreOptions Table { get; set; } = new();
}

/// <summary>How to reach a Redis server; shared by the Redis store and the Redis change feed.</summary>
public class RedisConnectionOptions
{
    /// <summary>A StackExchange.Redis configuration string: <c>host:port</c>, optionally with <c>,ssl=true</c> and more.</summary>
    public string? Configuration { get; set; }

    /// <summary>Overrides any password in <see cref="Configuration"/>, so it can come from a secret store alone.</summary>
    public string? Password { get; set; }

    /// <summary>Bounds connecting and each command, so an outage fails fast instead of hanging requests.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);
}

/// <summary><c>McpProxy:Storage:Redis</c>.</summary>
public sealed class RedisStoreOptions : RedisConnectionOptions
{
    public int Database { get; set; }

    /// <summary>Prepended to every key, so several gateways can share one Redis. Include a hash tag (<c>{mcpgw}:</c>) on a cluster.</summary>
    public string KeyPrefix { get; set; } = "mcpgw:";
}

/// <summary><c>McpProxy:Storage:Table</c>: a connection string, or an endpoint reached with a managed identity.</summary>
public sealed class TableStoreOptions
{
    /// <summary>A storage connection string (Azurite, development). Takes precedence over <see cref="Endpoint"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The table service URL, e.g. <c>https://account.table.core.windows.net</c>; authenticated with DefaultAzureCredential.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Holds definitions and reports (in separate partitions); created when missing.</summary>
    public string TableName { get; set; } = "McpRegistry";

    /// <summary>Bounds each request including its single retry, so an outage answers within a few seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Adjusts the Table client's options after the store's own (tests use it to lose a response).</summary>
    internal Action<Azure.Data.Tables.TableClientOptions>? ConfigureClient { get; set; }
}
