using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>A redis-server on a loopback port, started and killed by PID; it can be stopped and started again on the same port.</summary>
public sealed class RedisServer(int port, string[] extraArguments) : LoopbackServer(port)
{
    public string Configuration => $"127.0.0.1:{Port}";

    /// <param name="dataDirectory">Persist to an append-only file there (so a restart keeps the data); null for none.</param>
    public static async Task<RedisServer> StartNewAsync(string? dataDirectory = null)
    {
        string[] persistence = dataDirectory is null
            ? ["--save", "", "--appendonly", "no"]
            : ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dataDirectory];
        var server = new RedisServer(TestTools.FreeTcpPort(), persistence);
        await server.StartAsync();
        return server;
    }

    protected override ExternalProcess Launch() =>
        ExternalProcess.Start("redis-server", ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", .. extraArguments]);

    public RedisStoreOptions StoreOptions(string keyPrefix) =>
        new() { Configuration = Configuration, KeyPrefix = keyPrefix, Timeout = TimeSpan.FromSeconds(1) };
}

/// <summary>One redis-server for every test class of the collection; tests isolate themselves with unique key prefixes.</summary>
public sealed class RedisFixture : LoopbackServerFixture<RedisServer>
{
    protected override Task<RedisServer> StartServerAsync() => RedisServer.StartNewAsync();
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "Redis";
}
