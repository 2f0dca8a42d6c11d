using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>
/// A backing service the tests run as a child process on a loopback port (redis-server, Azurite): started, stopped and
/// started again on the same port, and killed by its PID.
/// </summary>
public abstract class LoopbackServer(int port) : IAsyncDisposable
{
    private ExternalProcess? _process;

    public int Port { get; } = port;

    /// <summary>Starts the service's process; <see cref="StartAsync"/> waits for it to listen.</summary>
    protected abstract ExternalProcess Launch();

    public async Task StartAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
        _process = Launch();
        await _process.WaitForPortAsync(Port);
    }

    public async Task StopAsync()
    {
        if (_process is not null) await _process.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>One server for every test class of a collection; tests isolate themselves with unique names.</summary>
public abstract class LoopbackServerFixture<TServer> : IAsyncLifetime where TServer : LoopbackServer
{
    public TServer Server { get; private set; } = null!;

    protected abstract Task<TServer> StartServerAsync();

    public async Task InitializeAsync() => Server = await StartServerAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
