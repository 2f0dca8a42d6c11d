using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;

namespace McpServerless.Tests.OAuth;

/// <summary>
/// A real authorization server and a gateway that trusts it, with two servers: <c>docs</c>, which wants the scope
/// <c>docs.read</c>, and <c>open</c>, which wants the default <c>mcp.access</c>. Admin tokens need <c>mcp.admin</c>.
/// Tokens are checked with no clock skew, so an expired token is refused the second it expires.
/// </summary>
public sealed class OAuthGateway : IAsyncLifetime, IAsyncDisposable
{
    public AuthorizationServer Issuer { get; private set; } = null!;

    public GatewayHarness Gateway { get; private set; } = null!;

    public HttpClient Http => Gateway.Http;

    public static async Task<OAuthGateway> StartAsync(Action<McpProxyOptions>? configure = null)
    {
        var fixture = new OAuthGateway();
        await fixture.StartCoreAsync(configure);
        return fixture;
    }

    /// <summary>The canonical URI of <paramref name="path"/> on this gateway (the gateway itself for an empty path).</summary>
    public string Resource(string path) => new Uri(Gateway.Proxy.BaseAddress, path).ToString().TrimEnd('/');

    /// <summary>A client-credentials token of <paramref name="client"/> for the resource at <paramref name="path"/>.</summary>
    public Task<string> TokenAsync(AuthorizationServer.Client client, string path, string? scope = null) =>
        Issuer.TokenAsync(client, Resource(path), scope);

    public Task InitializeAsync() => StartCoreAsync(null);

    private async Task StartCoreAsync(Action<McpProxyOptions>? configure)
    {
        Issuer = await AuthorizationServer.StartAsync();
        Gateway = await GatewayHarness.StartAsync(options =>
        {
            options.OAuth.Authority = Issuer.Issuer;
            options.OAuth.RequiredScopes = ["mcp.access"];
            options.OAuth.AdminScopes = ["mcp.admin"];
            options.OAuth.ClockSkew = TimeSpan.Zero;
            configure?.Invoke(options);
        });
        await Gateway.Admin.RegisterAsync(TestServers.Stdio("docs", d => d with { RequiredScopes = ["docs.read"] }));
        await Gateway.Admin.RegisterAsync(TestServers.Stdio("open"));
        await Gateway.WaitConnectedAsync("docs");
        await Gateway.WaitConnectedAsync("open");
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Issuer.DisposeAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}
