using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.Proxy;

internal static class ProxyHarness
{
    public static async Task WaitConnectedAsync(this GatewayHarness gateway, string name, TimeSpan? timeout = null) =>
        await Eventually.GetAsync(
            async () => (await gateway.Admin.GetAsync(name))?.Status,
            s => s?.State == ConnectionState.Connected,
            $"{name} to connect", timeout);

    /// <summary>The managed upstream connection of <paramref name="name"/>, as the relay sees it.</summary>
    public static McpServerless.Proxy.Upstreams.UpstreamConnection Upstream(this GatewayHarness gateway, string name) =>
        gateway.Proxy.Services.GetRequiredService<McpServerless.Proxy.Management.IUpstreamLookup>().TryGet(name, out var connection)
            ? connection : throw new InvalidOperationException($"{name} has no connection.");

    /// <summary>Waits until <paramref name="count"/> requests are in flight to <paramref name="name"/>'s upstream: a call has reached it.</summary>
    public static Task WaitInFlightAsync(this GatewayHarness gateway, string name, long count = 1) =>
        Eventually.GetAsync(() => Task.FromResult(gateway.Upstream(name).InFlight), n => n == count, $"{count} calls in flight to {name}");

    /// <summary>The last protocol revision with sessions, whose clients get server-pushed notifications.</summary>
    public const string SessionProtocol = "2025-11-25";

    /// <param name="protocolVersion">Null lets the SDK negotiate its newest revision (2026-07-28: stateless).</param>
    /// <param name="handlers">What the client answers when a server asks it (sampling, elicitation).</param>
    public static Task<McpClient> ConnectAsync(this GatewayHarness gateway, string path, HttpTransportMode mode = HttpTransportMode.StreamableHttp, string? token = null, string? protocolVersion = null, McpClientHandlers? handlers = null) =>
        ConnectAsync(gateway.Proxy.BaseAddress, path, mode, token, protocolVersion, handlers);

    public static Task<McpClient> ConnectAsync(Uri gateway, string path, HttpTransportMode mode = HttpTransportMode.StreamableHttp, string? token = null, string? protocolVersion = null, McpClientHandlers? handlers = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway, path),
                TransportMode = mode,
                AdditionalHeaders = token is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion, Handlers = handlers ?? new() });

    public static string Text(this ModelContextProtocol.Protocol.CallToolResult result) =>
        string.Concat(result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(b => b.Text));
}
