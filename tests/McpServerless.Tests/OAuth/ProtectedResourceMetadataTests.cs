using System.Net;
using System.Text.Json;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using McpServerless.Tests.Sessions;

namespace McpServerless.Tests.OAuth;

/// <summary>
/// Discovery as MCP clients do it (MCP authorization 2025-11-25, RFC 9728): every 401 names the metadata of the endpoint
/// called, and the metadata names the endpoint's canonical URI, the authorization server and the scopes to ask for.
/// </summary>
public sealed class ProtectedResourceMetadataTests(OAuthGateway fixture) : IClassFixture<OAuthGateway>
{
    [Theory]
    [InlineData("docs/stream", "docs.read")]
    [InlineData("docs/sse", "docs.read")]
    [InlineData("mcp", "mcp.access")]
    public async Task A_request_without_a_token_gets_401_naming_the_metadata_of_its_endpoint(string path, string scope)
    {
        using var request = HttpMethods(path);
        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var metadataUrl = $"{fixture.Resource("")}/.well-known/oauth-protected-resource/{path}";
        Assert.Equal($"Bearer resource_metadata=\"{metadataUrl}\", scope=\"{scope}\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var metadata = await GetJsonAsync(metadataUrl);
        Assert.Equal(fixture.Resource(path), metadata.RootElement.GetProperty("resource").GetString());
        Assert.Equal([fixture.Issuer.Issuer], Strings(metadata, "authorization_servers"));
        Assert.Contains(scope, Strings(metadata, "scopes_supported"));
        Assert.Equal(["header"], Strings(metadata, "bearer_methods_supported"));
    }

    [Fact]
    public async Task The_aggregated_endpoint_lists_every_servers_scopes_and_the_root_describes_the_gateway()
    {
        using var aggregate = await GetJsonAsync(fixture.Resource("") + "/.well-known/oauth-protected-resource/mcp");
        Assert.Equal(["mcp.access", "docs.read"], Strings(aggregate, "scopes_supported"));

        using var root = await GetJsonAsync(fixture.Resource("") + "/.well-known/oauth-protected-resource");
        Assert.Equal(fixture.Resource(""), root.RootElement.GetProperty("resource").GetString());
        Assert.Equal(["mcp.access", "mcp.admin"], Strings(root, "scopes_supported"));
    }

    [Fact]
    public async Task There_is_no_metadata_for_a_server_that_does_not_exist()
    {
        using var response = await fixture.Http.GetAsync("/.well-known/oauth-protected-resource/nobody/stream");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_admin_api_challenge_points_to_the_gateways_own_metadata_with_the_admin_scope()
    {
        using var response = await fixture.Http.GetAsync("/admin/mcps");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Bearer resource_metadata=\"{fixture.Resource("")}/.well-known/oauth-protected-resource\", scope=\"mcp.admin\"",
            response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task With_a_base_url_the_resources_are_its_and_the_metadata_answers_in_both_forms()
    {
        // The public URL of a gateway behind a front proxy that forwards /gateway: the resources derive from it, not
        // from the Host the request came with.
        const string publicBase = "https://gw.example.com/gateway";
        await using var oauth = await OAuthGateway.StartAsync(o => o.BaseUrl = publicBase);

        using var refused = await oauth.Http.SendAsync(RawMcp.Post("/gateway/docs/stream", RawMcp.Initialize));
        Assert.Equal($"Bearer resource_metadata=\"{publicBase}/.well-known/oauth-protected-resource/docs/stream\", scope=\"docs.read\"",
            refused.Headers.WwwAuthenticate.ToString());

        // Under the base, where the challenge points, and at the host's root with the base's path after the
        // well-known prefix, where RFC 9728 puts it.
        foreach (var path in new[] { "/gateway/.well-known/oauth-protected-resource/docs/stream", "/.well-known/oauth-protected-resource/gateway/docs/stream" })
        {
            using var metadata = JsonDocument.Parse(await oauth.Http.GetStringAsync(path));
            Assert.Equal($"{publicBase}/docs/stream", metadata.RootElement.GetProperty("resource").GetString());
        }

        // A token for the public resource URI passes; one for the address the request happened to use does not.
        var forPublicUri = await oauth.Issuer.TokenAsync(AuthorizationServer.Agent, $"{publicBase}/docs/stream");
        using var accepted = await oauth.Http.SendAsync(RawMcp.Post("/gateway/docs/stream", RawMcp.Initialize, token: forPublicUri));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var forLoopback = await oauth.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        using var refusedAudience = await oauth.Http.SendAsync(RawMcp.Post("/gateway/docs/stream", RawMcp.Initialize, token: forLoopback));
        Assert.Equal(HttpStatusCode.Unauthorized, refusedAudience.StatusCode);
    }

    [Fact]
    public async Task Without_oauth_there_is_no_metadata_and_the_challenge_is_the_static_one()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.GlobalAuthTokens = ["static-token-0123"]);
        await gateway.Admin.RegisterAsync(TestServers.Stdio("tools"));
        await gateway.WaitConnectedAsync("tools");

        using var refused = await gateway.Http.SendAsync(RawMcp.Post("/tools/stream", RawMcp.Initialize));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer realm=\"mcp-gateway\"", refused.Headers.WwwAuthenticate.ToString());
        using var metadata = await gateway.Http.GetAsync("/.well-known/oauth-protected-resource/tools/stream");
        Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
    }

    // A legacy SSE stream is opened with GET; streamable HTTP and the aggregate with POST.
    private static HttpRequestMessage HttpMethods(string path) => path.EndsWith("/sse", StringComparison.Ordinal)
        ? new HttpRequestMessage(HttpMethod.Get, "/" + path)
        : RawMcp.Post("/" + path, RawMcp.Initialize);

    private async Task<JsonDocument> GetJsonAsync(string url)
    {
        using var response = await fixture.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static string[] Strings(JsonDocument document, string property) =>
        [.. document.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
