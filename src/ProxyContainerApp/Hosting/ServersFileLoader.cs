using McpServerless.Configuration;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Hosting;

/// <summary>
/// Registers the servers of <c>McpProxy:ServersFile</c> at start. A name that is already registered
/// (a shared store that outlived this process) is left as stored. A file that cannot be read or holds an
/// invalid entry stops the start-up with a message saying which.
/// </summary>
internal sealed partial class ServersFileLoader(McpRegistry registry, IOptions<McpProxyOptions> options, ILogger<ServersFileLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ServersFile is not { Length: > 0 } path) return;

        var definitions = McpServersFile.Parse(await File.ReadAllTextAsync(path, cancellationToken));
        foreach (var definition in definitions)
        {
            try
            {
                await registry.RegisterAsync(definition, cancellationToken);
            }
            catch (McpAlreadyExistsException)
            {
                LogAlreadyRegistered(logger, definition.Name);
            }
            catch (McpValidationException ex)
            {
                var problems = string.Join("; ", ex.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
                throw new InvalidOperationException($"Servers file '{path}', server '{definition.Name}': {problems}", ex);
            }
        }
        LogLoaded(logger, definitions.Count, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Preloaded {Count} MCP servers from {Path}")]
    private static partial void LogLoaded(ILogger logger, int count, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP server {McpName} from the servers file is already registered; keeping the stored definition")]
    private static partial void LogAlreadyRegistered(ILogger logger, string mcpName);
}
