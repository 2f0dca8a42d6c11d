using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.OAuth;

/// <summary>
/// The gateway's own credentials upstream (<c>upstreamAuth</c>), against an upstream that takes only access tokens from
/// the real authorization server: tokens are fetched, refreshed before they expire, never the client's own, and the
/// client secret never comes back out of the admin API.
/// </summary>
public sealed class UpstreamAuthTests(OAuthGateway fixture) : IClassFixture<OAuthGateway>
{
    [Fact]
    public async Task An_upstream_that_wants_client_credentials_gets_a_fresh_token_after_each_expires()
    {
        var (upstream, resource) = await TestServers.StartProtectedHttpAsync(fixture.Issuer.Issuer);
        await using var _ = upstream;
        await fixture.Gateway.Admin.RegisterAsync(Protected("cc", resource, ClientCredentials(resource)));
        await fixture.Gateway.WaitConnectedAsync("cc");
        var issuedAtStart = await fixture.Issuer.TokensIssuedAsync(AuthorizationServer.Gateway);

        // The caller's own token (client "agent") stays at the gateway: the upstream sees the gateway's client.
        var token = await fixture.TokenAsync(AuthorizationServer.Agent, "cc/stream");
        await using var client = await fixture.Gateway.ConnectAsync("cc/stream", token: token, protocolVersion: ProxyHarness.SessionProtocol);
        Assert.Equal(AuthorizationServer.Gateway.Id, (await client.CallToolAsync("caller")).Text());

        // The gateway's tokens live four seconds and the upstream allows no clock skew: over ten seconds every call
        // succeeds only if the gateway fetched new ones in time.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"call {i}", (await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"call {i}" })).Text());
            await Task.Delay(500);
        }
        Assert.True(await fixture.Issuer.TokensIssuedAsync(AuthorizationServer.Gateway) - issuedAtStart >= 2, "the gateway should have fetched new tokens");
        await fixture.Gateway.Admin.UnregisterAsync("cc");
    }

    [Fact]
    public async Task Without_upstream_auth_the_protected_upstream_refuses_the_gateway()
    {
        var (upstream, resource) = await TestServers.StartProtectedHttpAsync(fixture.Issuer.Issuer);
        await using var _ = upstream;
        await fixture.Gateway.Admin.RegisterAsync(Protected("bare", resource, null));
        var status = await Eventually.GetAsync(async () => (await fixture.Gateway.Admin.GetAsync("bare"))?.Status,
            s => s?.LastError is not null, "the connection to fail");
        Assert.Contains("401", status!.LastError);
        await fixture.Gateway.Admin.UnregisterAsync("bare");
    }

    [Fact]
    public async Task A_token_endpoint_that_refuses_the_client_is_reported_without_the_secret()
    {
        var (upstream, resource) = await TestServers.StartProtectedHttpAsync(fixture.Issuer.Issuer);
        await using var _ = upstream;
        var wrongSecret = ClientCredentials(resource) with { ClientSecret = "wrong-secret-0123456789" };
        await fixture.Gateway.Admin.RegisterAsync(Protected("wrong", resource, wrongSecret));
        var status = await Eventually.GetAsync(async () => (await fixture.Gateway.Admin.GetAsync("wrong"))?.Status,
            s => s?.LastError is not null, "the connection to fail");
        Assert.True(status!.LastError!.Contains("invalid_client", StringComparison.Ordinal), status.LastError);
        Assert.DoesNotContain("wrong-secret-0123456789", status.LastError);
        await fixture.Gateway.Admin.UnregisterAsync("wrong");
    }

    [Fact]
    public async Task The_client_secret_is_masked_and_kept_only_for_the_same_token_endpoint_and_client()
    {
        var auth = ClientCredentials("https://upstream.example.com/mcp") with { TokenUrl = "https://login.example.com/token" };
        await fixture.Gateway.Admin.RegisterAsync(Protected("secret", "https://upstream.example.com/mcp", auth) with { AutoReconnect = false });

        var read = await fixture.Gateway.Http.SendAsync(fixture.Gateway.AdminRequest(HttpMethod.Get, "/admin/mcps/secret"));
        var entry = JsonNode.Parse(await read.Content.ReadAsStringAsync())!;
        var definition = entry["definition"]!;
        Assert.Equal("***", definition["upstreamAuth"]!["clientSecret"]!.GetValue<string>());
        Assert.DoesNotContain(auth.ClientSecret!, entry.ToJsonString());

        // Sent back as read: the stored secret stays.
        definition["description"] = "edited";
        using (var put = await fixture.Gateway.Http.SendAsync(fixture.Gateway.AdminRequest(HttpMethod.Put, "/admin/mcps/secret", JsonContent.Create(definition))))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(auth.ClientSecret, (await fixture.Gateway.GetStoredAsync("secret"))!.UpstreamAuth!.ClientSecret);

        // Pointed at another token endpoint, the mask stands for nothing: the stored secret is not sent elsewhere.
        definition["upstreamAuth"]!["tokenUrl"] = "https://attacker.example.com/token";
        using (var moved = await fixture.Gateway.Http.SendAsync(fixture.Gateway.AdminRequest(HttpMethod.Put, "/admin/mcps/secret", JsonContent.Create(definition))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
            Assert.Contains("upstreamAuth.clientSecret", await moved.Content.ReadAsStringAsync());
        }
        await fixture.Gateway.Admin.UnregisterAsync("secret");
    }

    [Theory]
    [InlineData("""{"name":"x","transport":"stdio","command":"echo","upstreamAuth":{"kind":"managedIdentity","scope":"api://x/.default"}}""", "upstreamAuth")]
    [InlineData("""{"name":"x","transport":"streamable-http","url":"https://u.example.com/mcp","upstreamAuth":{"kind":"clientCredentials"}}""", "upstreamAuth.tokenUrl")]
    [InlineData("""{"name":"x","transport":"streamable-http","url":"https://u.example.com/mcp","upstreamAuth":{"kind":"clientCredentials","tokenUrl":"http://login.example.com/token","clientId":"c","clientSecret":"s"}}""", "upstreamAuth.tokenUrl")]
    [InlineData("""{"name":"x","transport":"streamable-http","url":"https://u.example.com/mcp","upstreamAuth":{"kind":"managedIdentity"}}""", "upstreamAuth.scope")]
    [InlineData("""{"name":"x","transport":"streamable-http","url":"https://u.example.com/mcp","headers":{"Authorization":"Bearer k"},"upstreamAuth":{"kind":"managedIdentity","scope":"api://x/.default"}}""", "upstreamAuth")]
    [InlineData("""{"name":"x","transport":"stdio","command":"echo","requiredScopes":["two words"]}""", "requiredScopes")]
    public async Task An_invalid_upstream_auth_or_scope_list_is_400_naming_the_field(string body, string field)
    {
        using var response = await fixture.Gateway.Http.SendAsync(fixture.Gateway.AdminRequest(HttpMethod.Post, "/admin/mcps",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"{field}\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_managed_identity_token_comes_from_the_platforms_identity_endpoint_through_azure_identity()
    {
        // Azure's managed-identity endpoint cannot run here. The authorization server plays it (the App Service protocol:
        // IDENTITY_ENDPOINT and IDENTITY_HEADER, set as the platform sets them), issuing its own tokens for the resource
        // Azure.Identity asks for; the gateway's code path is the real one: ManagedIdentityCredential and its cache.
        var (upstream, resource) = await TestServers.StartProtectedHttpAsync(fixture.Issuer.Issuer);
        await using var _ = upstream;
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>(), new Dictionary<string, string>
        {
            ["IDENTITY_ENDPOINT"] = fixture.Issuer.ManagedIdentityEndpoint.ToString(),
            ["IDENTITY_HEADER"] = AuthorizationServer.Gateway.Id,
        });
        await gateway.Admin.RegisterAsync(Protected("mi", resource, new UpstreamAuth { Kind = UpstreamAuthKind.ManagedIdentity, Scope = resource + "/.default" }));
        await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("mi"))?.Status, s => s?.State == ConnectionState.Connected,
            "the managed-identity upstream to connect");

        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(gateway.BaseAddress, "mi/stream") }));
        Assert.Equal(AuthorizationServer.Gateway.Id, (await client.CallToolAsync("caller")).Text());
    }

    private static McpDefinition Protected(string name, string url, UpstreamAuth? auth) => new()
    {
        Name = name,
        Transport = McpTransport.StreamableHttp,
        Url = url,
        Timeout = TimeSpan.FromSeconds(20),
        AutoReconnect = true,
        UpstreamAuth = auth,
    };

    private UpstreamAuth ClientCredentials(string resource) => new()
    {
        Kind = UpstreamAuthKind.ClientCredentials,
        TokenUrl = new Uri(fixture.Issuer.Address, "token").ToString(),
        ClientId = AuthorizationServer.Gateway.Id,
        ClientSecret = AuthorizationServer.Gateway.Secret,
        Resource = resource,
    };
}
