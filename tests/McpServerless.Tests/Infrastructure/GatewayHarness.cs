using System.Net.Http.Headers;
using McpServerless.Client;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Proxy;
using McpServerless.Storage;
using Microsoft.AspNetCore.Builder;

namespace McpServerless.Tests.Infrastructure;

/// <summary>A real gateway on a free loopback port, with clients for it; disposed after each test.</summary>
public sealed class GatewayHarness : IAdminTestHost
{
    public const string AdminToken = IAdminTestHost.AdminToken;

    private GatewayHarness(McpProxy proxy)
    {
        Proxy = proxy;
        Http = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin = new McpProxyClient(Http, AdminToken);
    }

    public McpProxy Proxy { get; }

    /// <summary>An HTTP client with no credentials.</summary>
    public HttpClient Http { get; }

    public McpProxyClient Admin { get; }

    public static async Task<GatewayHarness> StartAsync(
        Action<McpProxyOptions>? configure = null, IMcpStore? store = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var options = new McpProxyOptions { Port = 0, AdminTokens = [AdminToken] };
        configure?.Invoke(options);
        var proxy = McpProxy.Create(options, store, configureBuilder);
        try
        {
            await proxy.StartAsync();
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
        return new GatewayHarness(proxy);
    }

    public Task<McpDefinition?> GetStoredAsync(string name) => Proxy.GetMcpAsync(name);

    public HttpRequestMessage AdminRequest(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Proxy.DisposeAsync();
    }
}
