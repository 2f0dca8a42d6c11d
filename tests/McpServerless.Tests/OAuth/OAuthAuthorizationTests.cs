using System.Net;
using System.Net.Http.Headers;
using McpServerless.Admin;
using McpServerless.Audit;
using McpServerless.AdminFunctions;
using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.Tests.Sessions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;

namespace McpServerless.Tests.OAuth;

/// <summary>What a valid token may do: which servers it reaches, how it binds sessions, and the admin API on both hosts.</summary>
public sealed class OAuthAuthorizationTests(OAuthGateway fixture) : IClassFixture<OAuthGateway>
{
    [Fact]
    public async Task The_aggregated_endpoint_shows_and_routes_only_the_servers_a_token_may_use()
    {
        var reader = await fixture.TokenAsync(AuthorizationServer.Reader, "mcp"); // mcp.access: "open" only
        await using (var client = await fixture.Gateway.ConnectAsync("mcp", token: reader, protocolVersion: ProxyHarness.SessionProtocol))
        {
            var tools = await client.ListToolsAsync();
            Assert.Contains(tools, t => t.Name == "open__echo");
            Assert.DoesNotContain(tools, t => t.Name.StartsWith("docs__", StringComparison.Ordinal));
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("docs__echo", new Dictionary<string, object?> { ["message"] = "x" }).AsTask());
            Assert.Contains("Unknown name", refused.Message);
        }

        var agent = await fixture.TokenAsync(AuthorizationServer.Agent, "mcp"); // every scope: both
        await using (var client = await fixture.Gateway.ConnectAsync("mcp", token: agent, protocolVersion: ProxyHarness.SessionProtocol))
        {
            var tools = await client.ListToolsAsync();
            Assert.Contains(tools, t => t.Name == "open__echo");
            Assert.Contains(tools, t => t.Name == "docs__echo");
            Assert.Equal("both", (await client.CallToolAsync("docs__echo", new Dictionary<string, object?> { ["message"] = "both" })).Text());
        }

        // The audit names an OAuth caller by its subject (a client-credentials token's is the client), not by its token.
        var audited = await Eventually.GetAsync(() => fixture.Gateway.Admin.GetAuditAsync(new AuditQuery { Server = "docs", Caller = AuthorizationServer.Agent.Id }),
            p => p.Entries.Any(e => e.Route == AuditRoutes.Aggregated), "the agent's call in the audit log");
        var entry = Assert.Single(audited.Entries, e => e.Route == AuditRoutes.Aggregated);
        Assert.Equal((AuthorizationServer.Agent.Id, (string?)null), (entry.Caller.Principal, entry.Caller.Token));
    }

    [Fact]
    public async Task The_aggregated_endpoint_wants_the_default_scope()
    {
        var withoutDefault = await fixture.TokenAsync(AuthorizationServer.Agent, "mcp", "docs.read");
        using var response = await fixture.Http.SendAsync(RawMcp.Post("/mcp", RawMcp.Initialize, token: withoutDefault));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("scope=\"mcp.access\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_session_belongs_to_the_token_subject_so_a_refreshed_token_keeps_it_and_another_caller_cannot_use_it()
    {
        var first = await fixture.TokenAsync(AuthorizationServer.Agent, "open/stream");
        var session = await RawMcp.InitializeAsync(fixture.Http, "/open/stream", first);

        var refreshed = await fixture.TokenAsync(AuthorizationServer.Agent, "open/stream");
        Assert.NotEqual(first, refreshed);
        var (status, body) = await RawMcp.SendAsync(fixture.Http, "/open/stream", session, refreshed);
        Assert.True(status == 200, body);

        var someoneElse = await fixture.TokenAsync(AuthorizationServer.Reader, "open/stream");
        Assert.Equal(404, (await RawMcp.SendAsync(fixture.Http, "/open/stream", session, someoneElse)).Status);
    }

    [Fact]
    public async Task Static_tokens_keep_working_beside_oauth_and_a_server_without_requireAuth_still_wants_a_token()
    {
        await using var oauth = await OAuthGateway.StartAsync(o => o.GlobalAuthTokens = ["global-static-token"]);
        await oauth.Gateway.Admin.RegisterAsync(TestServers.Stdio("own", d => d with { AuthTokens = ["own-static-token"], RequiredScopes = ["docs.read"] }));
        await oauth.Gateway.WaitConnectedAsync("own");

        // Static tokens are not scoped: a configured one opens what it always opened.
        foreach (var (path, token) in new[] { ("/docs/stream", "global-static-token"), ("/own/stream", "own-static-token"), ("/own/stream", "global-static-token"), ("/mcp", "global-static-token") })
        {
            using var response = await oauth.Http.SendAsync(RawMcp.Post(path, RawMcp.Initialize, token: token));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{token} on {path}: {(int)response.StatusCode}");
        }
        using var otherServers = await oauth.Http.SendAsync(RawMcp.Post("/docs/stream", RawMcp.Initialize, token: "own-static-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, otherServers.StatusCode);

        // "open" has no requireAuth and no tokens, yet with an authority set it wants a token like every endpoint.
        using var anonymous = await oauth.Http.SendAsync(RawMcp.Post("/open/stream", RawMcp.Initialize));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task An_app_only_token_passes_on_an_app_role_where_a_user_would_need_scopes()
    {
        // Entra ID's client-credentials tokens carry app roles, not scopes: a server lists both, either admits.
        await fixture.Gateway.Admin.RegisterAsync(TestServers.Stdio("roles", d => d with { RequiredScopes = ["docs.read"], RequiredRoles = ["Docs.Reader"] }));
        await fixture.Gateway.WaitConnectedAsync("roles");
        try
        {
            foreach (var client in new[] { AuthorizationServer.RoleApp, AuthorizationServer.Agent })
            {
                var token = await fixture.TokenAsync(client, "roles/stream");
                using var admitted = await fixture.Http.SendAsync(RawMcp.Post("/roles/stream", RawMcp.Initialize, token: token));
                Assert.True(admitted.StatusCode == HttpStatusCode.OK, $"{client.Id}: {(int)admitted.StatusCode}");
            }

            var reader = await fixture.TokenAsync(AuthorizationServer.Reader, "roles/stream");
            using var refused = await fixture.Http.SendAsync(RawMcp.Post("/roles/stream", RawMcp.Initialize, token: reader));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("Docs.Reader", await refused.Content.ReadAsStringAsync());

            // The role does not stand in for the scope where the server asks for the scope alone.
            var roleOnDocs = await fixture.TokenAsync(AuthorizationServer.RoleApp, "docs/stream");
            using var docs = await fixture.Http.SendAsync(RawMcp.Post("/docs/stream", RawMcp.Initialize, token: roleOnDocs));
            Assert.Equal(HttpStatusCode.Forbidden, docs.StatusCode);
        }
        finally
        {
            await fixture.Gateway.Admin.UnregisterAsync("roles");
        }
    }

    [Fact]
    public async Task The_admin_api_takes_tokens_with_the_admin_scope()
    {
        await AssertAdminAsync(fixture.Http, "/admin/mcps", fixture.Resource(""));
        await AssertEveryAdminRouteWantsTheAdminScopeAsync(fixture.Http, "/", fixture.Resource(""));
    }

    [Fact]
    public async Task The_functions_admin_api_takes_tokens_with_the_admin_scope_checked_in_the_worker()
    {
        await using var functions = await FunctionsHarness.StartAsync(new Dictionary<string, string?>
        {
            ["McpProxy:OAuth:Authority"] = fixture.Issuer.Issuer,
            ["McpProxy:OAuth:AdminScopes:0"] = "mcp.admin",
            ["McpProxy:OAuth:AdminRoles:0"] = "McpGateway.Admin",
        });
        var root = functions.Root.ToString().TrimEnd('/');
        await AssertAdminAsync(functions.Http, "admin/mcps", root);
        await AssertEveryAdminRouteWantsTheAdminScopeAsync(functions.Http, "", root);
        using (var byRole = await SendAsync(functions.Http, "admin/mcps", await fixture.Issuer.TokenAsync(AuthorizationServer.RoleApp, root)))
            Assert.Equal(HttpStatusCode.OK, byRole.StatusCode);

        using var metadata = await functions.Http.GetAsync(new Uri(functions.Root, ".well-known/oauth-protected-resource"));
        Assert.Contains($"\"resource\":\"{functions.Root.ToString().TrimEnd('/')}\"", await metadata.Content.ReadAsStringAsync());
    }

    [Fact]
    public void The_functions_app_needs_admin_tokens_or_oauth_admins()
    {
        // Every request reaches the worker from the Functions host on loopback: without either, anyone would be admin.
        static McpProxyOptions Settings(Dictionary<string, string?> settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            using var provider = new ServiceCollection().AddAdminFunctions(configuration).BuildServiceProvider();
            return provider.GetRequiredService<IOptions<McpProxyOptions>>().Value;
        }

        var refused = Assert.Throws<OptionsValidationException>(() => Settings([]));
        Assert.Contains("AdminScopes or AdminRoles", refused.Message);
        Assert.True(Settings(new() { ["McpProxy:OAuth:Authority"] = fixture.Issuer.Issuer, ["McpProxy:OAuth:AdminRoles:0"] = "McpGateway.Admin" }).OAuth.AdminEnabled);
    }

    /// <param name="resource">The gateway's own resource URI on that host: what an admin token is issued for.</param>
    private async Task AssertAdminAsync(HttpClient http, string path, string resource)
    {
        using var anonymous = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("scope=\"mcp.admin\"", anonymous.Headers.WwwAuthenticate.ToString());

        var admin = await fixture.Issuer.TokenAsync(AuthorizationServer.Agent, resource);
        using (var allowed = await SendAsync(http, path, admin))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);

        var reader = await fixture.Issuer.TokenAsync(AuthorizationServer.Reader, resource);
        using (var forbidden = await SendAsync(http, path, reader))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains("error=\"insufficient_scope\"", forbidden.Headers.WwwAuthenticate.ToString());
        }

        using (var staticToken = await SendAsync(http, path, IAdminTestHost.AdminToken))
            Assert.Equal(HttpStatusCode.OK, staticToken.StatusCode);
    }

    /// <summary>Every route of <see cref="AdminRoutes.All"/>, as the host maps it under <paramref name="prefix"/>: 401 without a token, 403 without the admin scope.</summary>
    private async Task AssertEveryAdminRouteWantsTheAdminScopeAsync(HttpClient http, string prefix, string resource)
    {
        var reader = await fixture.Issuer.TokenAsync(AuthorizationServer.Reader, resource);
        foreach (var route in AdminRoutes.All.Where(r => r.IsAdmin))
        {
            var path = prefix + route.Template.Replace("{name}", "someone", StringComparison.Ordinal);
            using (var anonymous = await http.SendAsync(new HttpRequestMessage(new HttpMethod(route.Method), path)))
                Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{route.Method} {path} without a token: {anonymous.StatusCode}");

            using var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader);
            using var forbidden = await http.SendAsync(request);
            Assert.True(forbidden.StatusCode == HttpStatusCode.Forbidden, $"{route.Method} {path} without the admin scope: {forbidden.StatusCode}");
            Assert.Contains("error=\"insufficient_scope\"", forbidden.Headers.WwwAuthenticate.ToString());
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }
}
