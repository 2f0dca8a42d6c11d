using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>A redis-server on a loopback port, started and killed by PID; it can be stopped and started again on the same port.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string[] _extraArguments;
    private ExternalProcess? _process;

    private RedisServer(int port, string[] extraArguments)
    {
        Port = port;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

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

    public async Task StartAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
        _process = ExternalProcess.Start("redis-server", ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", .. _extraArguments]);
        await _process.WaitForPortAsync(Port);
    }

    public async Task StopAsync()
    {
        if (_process is not null) await _process.StopAsync();
    }

    public RedisStoreOptions StoreOptions(string keyPrefix) =>
        new() { Configuration = Configuration, KeyPrefix = keyPrefix, Timeout = TimeSpan.FromSeconds(1) };

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
    }
}

/// <summary>One redis-server for every test class of the collection; tests isolate themselves with unique key prefixes.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartNewAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "Redis";
}
