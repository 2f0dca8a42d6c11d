using System.Globalization;
using System.Net.Http.Headers;
using McpServerless.Client;
using McpServerless.Model;

namespace McpServerless.Bench;

/// <summary>The gateway under test as its own process, with its admin API and its <c>/metrics</c>.</summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private const string AdminToken = "bench-admin-token";
    private readonly HttpClient _adminHttp;

    private GatewayProcess(ChildProcess process, Uri baseAddress)
    {
        Process = process;
        BaseAddress = baseAddress;
        _adminHttp = new HttpClient { BaseAddress = baseAddress };
        Admin = new McpProxyClient(_adminHttp, AdminToken);
    }

    public ChildProcess Process { get; }

    public Uri BaseAddress { get; }

    public McpProxyClient Admin { get; }

    /// <summary>
    /// Starts a gateway that admits <paramref name="maxSessions"/> sessions per server. Every session limit is set
    /// explicitly, so the bench keeps measuring what it means to when defaults change: all bench sessions come from
    /// 127.0.0.1 without a token, so a per-caller quota would otherwise cap them, and an idle timeout must not reap
    /// the idle sessions of the session-scale run.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string binaries, int port, int maxSessions)
    {
        var limit = maxSessions.ToString(CultureInfo.InvariantCulture);
        var process = await ChildProcess.StartAsync("dotnet",
        [
            Path.Combine(binaries, "McpServerless.ProxyContainerApp.dll"),
            $"--McpProxy:Port={port.ToString(CultureInfo.InvariantCulture)}", $"--McpProxy:AdminTokens:0={AdminToken}",
            $"--McpProxy:Limits:MaxSessionsPerServer={limit}", $"--McpProxy:Limits:MaxSessionsPerCaller={limit}",
            "--McpProxy:Limits:SessionIdleTimeout=01:00:00", "--Logging:LogLevel:Default=Warning",
        ], port);
        return new GatewayProcess(process, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"));
    }

    public async Task RegisterAsync(McpDefinition definition)
    {
        await Admin.RegisterAsync(definition);
        for (var i = 0; i < 600; i++)
        {
            if ((await Admin.GetAsync(definition.Name))?.Status.State == ConnectionState.Connected) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{definition.Name} did not connect.");
    }

    /// <summary>The sessions the gateway itself counts on <paramref name="name"/> (its <c>mcp_gateway.sessions.active</c> gauge).</summary>
    public async Task<long?> ActiveSessionsAsync(string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await _adminHttp.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var line = (await response.Content.ReadAsStringAsync()).Split('\n')
            .FirstOrDefault(l => l.StartsWith("mcp_gateway_sessions_active", StringComparison.Ordinal) && l.Contains($"mcp_gateway_server=\"{name}\"", StringComparison.Ordinal));
        // name{labels} value [timestamp]
        return line is null ? null : (long)double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        _adminHttp.Dispose();
        await Process.DisposeAsync();
    }
}
