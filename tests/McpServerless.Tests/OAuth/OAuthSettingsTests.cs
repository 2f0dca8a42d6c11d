using System.Security.Claims;
using McpServerless.Configuration;
using McpServerless.Proxy;
using McpServerless.Security.OAuth;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.OAuth;

/// <summary>McpProxy:OAuth checked at start, and how scopes and roles are read the way Entra ID and RFC 9068 write them.</summary>
public sealed class OAuthSettingsTests
{
    [Theory]
    [InlineData("http://login.example.com/tenant", "127.0.0.1", null, "must use https")]
    [InlineData("https://login.example.com/?q=1", "127.0.0.1", null, "without query")]
    [InlineData("https://login.example.com/tenant", "0.0.0.0", null, "McpProxy:OAuth:Audiences or McpProxy:BaseUrl")]
    [InlineData("https://login.example.com/tenant", "127.0.0.1", "two words", "McpProxy:OAuth:RequiredScopes:0")]
    [InlineData(null, "127.0.0.1", "mcp.access", "no Authority")]
    public async Task Bad_oauth_settings_stop_the_start_with_a_message_naming_them(string? authority, string host, string? scope, string message)
    {
        var options = new McpProxyOptions { Port = 0, Host = host };
        options.OAuth.Authority = authority;
        if (scope is not null) options.OAuth.RequiredScopes = [scope];
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var proxy = McpProxy.Create(options);
            await proxy.StartAsync();
        });
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public async Task An_http_authority_on_loopback_is_accepted_for_development()
    {
        var options = new McpProxyOptions { Port = 0 };
        options.OAuth.Authority = "http://127.0.0.1:9/issuer";
        await using var proxy = McpProxy.Create(options);
        await proxy.StartAsync();
    }

    [Fact]
    public void Entra_scopes_requested_by_full_name_are_met_by_the_short_name_the_token_carries()
    {
        // Entra ID: clients ask for api://{app}/mcp.access, the token's "scp" says "mcp.access"; app-only tokens carry "roles".
        var user = Principal(("scp", "mcp.access other"));
        var requirement = new ScopeRequirement(["api://gateway-app/mcp.access"], null);
        Assert.True(requirement.IsMetBy(user));
        Assert.False(new ScopeRequirement(["api://gateway-app/docs.read"], null).IsMetBy(user));
        Assert.Equal("api://gateway-app/mcp.access", requirement.ChallengeScope);

        var app = Principal(("roles", "McpGateway.Access"), ("roles", "Other"));
        Assert.False(requirement.IsMetBy(app));
        Assert.True(new ScopeRequirement(["api://gateway-app/mcp.access"], ["McpGateway.Access"]).IsMetBy(app));

        // RFC 9068 writes "scope"; every listed scope is needed.
        var rfc9068 = Principal(("scope", "a b"));
        Assert.True(new ScopeRequirement(["a", "b"], null).IsMetBy(rfc9068));
        Assert.False(new ScopeRequirement(["a", "c"], null).IsMetBy(rfc9068));
        Assert.True(ScopeRequirement.None.IsMetBy(rfc9068));
    }

    private static OAuthPrincipal Principal(params (string Type, string Value)[] claims) =>
        new(new ClaimsPrincipal(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)).Append(new Claim("sub", "someone")), "test")));
}
