using System.Globalization;
using McpServerless.Client;

namespace McpServerless.Tests.Infrastructure;

/// <summary>
/// The gateway as its own OS process (the ProxyContainerApp assembly built beside the tests), configured only
/// through command-line settings like a deployment would be. Ended by its PID.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private GatewayProcess(ExternalProcess process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin = new McpProxyClient(Http, GatewayHarness.AdminToken);
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public McpProxyClient Admin { get; }

    public string Output => _process.Output;

    /// <summary>The gateway process's resident memory in bytes, from /proc.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <param name="environment">Environment variables of the process, beside the settings (what a platform sets).</param>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = TestTools.FreeTcpPort();
        var dll = Path.Combine(AppContext.BaseDirectory, "McpServerless.ProxyContainerApp.dll");
        var arguments = new List<string> { dll, $"--McpProxy:Port={port.ToString(CultureInfo.InvariantCulture)}", $"--McpProxy:AdminTokens:0={GatewayHarness.AdminToken}" };
        arguments.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var process = ExternalProcess.Start("dotnet", arguments, environment);
        await process.WaitForPortAsync(port);
        return new GatewayProcess(process, port);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
