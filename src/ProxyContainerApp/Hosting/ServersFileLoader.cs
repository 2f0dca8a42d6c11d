using McpServerless.Configuration;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

/// <summary>
/// Registers the servers of <c>McpProxy:ServersFile</c> at start, then its virtual servers. A name that is already
/// registered (a shared store that outlived this process) is left as stored. A file that cannot be read or holds an
/// invalid entry stops the start-up with a message saying which.
/// </summary>
internal sealed partial class ServersFileLoader(McpRegistry registry, IOptions<McpProxyOptions> options, ILogger<ServersFileLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ServersFile is not { Length: > 0 } path) return;

        var file = McpServersFile.Parse(await File.ReadAllTextAsync(path, cancellationToken));
        foreach (var definition in file.Servers)
            await RegisterAsync(path, "server", definition.Name, ct => registry.RegisterAsync(definition, ct), cancellationToken);
        foreach (var definition in file.VirtualServers)
            await RegisterAsync(path, "virtual server", definition.Name, ct => registry.RegisterVirtualServerAsync(definition, ct), cancellationToken);
        LogLoaded(logger, file.Servers.Count, file.VirtualServers.Count, path);
    }

    private async Task RegisterAsync(string path, string kind, string name, Func<CancellationToken, Task> register, CancellationToken cancellationToken)
    {
        try
        {
            await register(cancellationToken);
        }
        catch (McpAlreadyExistsException ex)
        {
            LogAlreadyRegistered(logger, name, ex.Message);
        }
        catch (McpValidationException ex)
        {
            var problems = string.Join("; ", ex.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
            throw new InvalidOperationException($"Servers file '{path}', {kind} '{name}': {problems}", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Preloaded {Count} MCP servers and {VirtualCount} virtual servers from {Path}")]
    private static partial void LogLoaded(ILogger logger, int count, int virtualCount, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{McpName} from the servers file is already registered; keeping what is stored ({Detail})")]
    private static partial void LogAlreadyRegistered(ILogger logger, string mcpName, string detail);
}
