using System.Net;
using System.Text;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Sessions;

namespace McpServerless.Tests.OAuth;

/// <summary>
/// Every way a token can be wrong, each with real tokens from real authorization servers, and the answer RFC 6750 and
/// the MCP authorization spec give it: 401 <c>invalid_token</c>, 403 <c>insufficient_scope</c> naming the scope to step
/// up to, 400 <c>invalid_request</c> for a token in the query string — always with the metadata URL.
/// </summary>
public sealed class TokenRefusalTests(OAuthGateway fixture) : IClassFixture<OAuthGateway>
{
    private const string Path = "/docs/stream";

    [Fact]
    public async Task A_valid_token_for_the_endpoint_passes()
    {
        var token = await fixture.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        using var response = await SendAsync(token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_the_gateway_itself_passes_on_every_endpoint()
    {
        var token = await fixture.TokenAsync(AuthorizationServer.Agent, "");
        using var response = await SendAsync(token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_another_resource_is_invalid()
    {
        // Issued by the trusted server, for another MCP server: using it here would make the gateway a confused deputy.
        var token = await fixture.Issuer.TokenAsync(AuthorizationServer.Agent, "https://other.example.com/mcp");
        await AssertInvalidTokenAsync(token, "audience");

        var forAnotherEndpoint = await fixture.TokenAsync(AuthorizationServer.Agent, "open/stream");
        await AssertInvalidTokenAsync(forAnotherEndpoint, "audience");
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_invalid()
    {
        await using var stranger = await AuthorizationServer.StartAsync();
        var token = await stranger.TokenAsync(AuthorizationServer.Agent, fixture.Resource("docs/stream"));
        await AssertInvalidTokenAsync(token, null);
    }

    [Fact]
    public async Task An_expired_token_is_invalid()
    {
        var token = await fixture.TokenAsync(AuthorizationServer.ShortLived, "open/stream", "mcp.access");
        using (var fresh = await SendAsync(token, "/open/stream"))
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3)); // it lives two seconds; the fixture allows no clock skew
        await AssertInvalidTokenAsync(token, "expired", "/open/stream");
    }

    [Fact]
    public async Task A_token_whose_claims_were_changed_has_a_bad_signature()
    {
        // A real token with its scope widened: the signature no longer covers the payload.
        var parts = (await fixture.TokenAsync(AuthorizationServer.Reader, "docs/stream")).Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url(parts[1])).Replace("\"scope\":\"mcp.access\"", "\"scope\":\"mcp.access docs.read\"", StringComparison.Ordinal);
        Assert.Contains("docs.read", payload);
        var tampered = $"{parts[0]}.{Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}.{parts[2]}";
        await AssertInvalidTokenAsync(tampered, "signature");
    }

    [Fact]
    public async Task A_token_signed_with_a_key_the_issuer_does_not_publish_is_invalid()
    {
        // An impostor that claims the trusted issuer's name signs with a key of its own, under a key id the issuer never
        // published; the gateway looks the keys up again (a rollover could explain it) and still refuses.
        await using var impostor = await AuthorizationServer.StartAsync(issuer: fixture.Issuer.Issuer);
        var token = await impostor.TokenAsync(AuthorizationServer.Agent, fixture.Resource("docs/stream"));
        await AssertInvalidTokenAsync(token, "key");
    }

    [Fact]
    public async Task Something_that_is_no_jwt_and_no_static_token_is_invalid()
    {
        await AssertInvalidTokenAsync("not-a-token-at-all", "well-formed");
    }

    [Fact]
    public async Task A_token_without_the_servers_scope_is_403_with_the_scope_to_step_up_to()
    {
        var token = await fixture.TokenAsync(AuthorizationServer.Reader, "docs/stream"); // mcp.access only; docs wants docs.read
        using var response = await SendAsync(token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(
            $"Bearer resource_metadata=\"{Metadata()}\", scope=\"docs.read\", error=\"insufficient_scope\", error_description=\"The token lacks a required scope: docs.read.\"",
            response.Headers.WwwAuthenticate.ToString());

        // The same token is good where its scope is enough.
        var forOpen = await fixture.TokenAsync(AuthorizationServer.Reader, "open/stream");
        using var open = await SendAsync(forOpen, "/open/stream");
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Fact]
    public async Task A_token_in_the_query_string_is_refused_even_when_valid()
    {
        var token = await fixture.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        using var inQuery = await fixture.Http.SendAsync(RawMcp.Post($"{Path}?access_token={token}", RawMcp.Initialize));
        Assert.Equal(HttpStatusCode.BadRequest, inQuery.StatusCode);
        Assert.Contains("error=\"invalid_request\"", inQuery.Headers.WwwAuthenticate.ToString());
        Assert.Contains($"resource_metadata=\"{Metadata()}\"", inQuery.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(token, await inQuery.Content.ReadAsStringAsync());

        using var both = await fixture.Http.SendAsync(RawMcp.Post($"{Path}?access_token={token}", RawMcp.Initialize, token: token));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
    }

    [Fact]
    public async Task Key_rollover_at_the_issuer_is_picked_up_without_a_restart()
    {
        await using var oauth = await OAuthGateway.StartAsync();
        var before = await oauth.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        using (var first = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: before)))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        await oauth.Issuer.RotateKeysAsync();
        var after = await oauth.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        Assert.NotEqual(KeyId(before), KeyId(after));

        // The unknown key id makes the gateway fetch the published keys again.
        await Eventually.GetAsync(async () =>
        {
            using var response = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: after));
            return response.StatusCode;
        }, status => status == HttpStatusCode.OK, "a token signed with the new key to pass", TimeSpan.FromSeconds(10));

        // The old key is still published, so tokens signed before the rollover stay good until they expire.
        using var old = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: before));
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);
    }

    [Fact]
    public async Task A_key_the_issuer_withdraws_stops_admitting_tokens_that_passed_before()
    {
        await using var oauth = await OAuthGateway.StartAsync();
        var before = await oauth.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        using (var first = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: before)))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        await oauth.Issuer.RotateKeysAsync(withdrawOld: true);
        var after = await oauth.TokenAsync(AuthorizationServer.Agent, "docs/stream");
        await Eventually.GetAsync(async () =>
        {
            using var response = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: after));
            return response.StatusCode;
        }, status => status == HttpStatusCode.OK, "a token signed with the new key to pass", TimeSpan.FromSeconds(10));

        // The gateway has the new key set now; a token it admitted under the old set is checked again, and refused.
        using var old = await oauth.Http.SendAsync(RawMcp.Post(Path, RawMcp.Initialize, token: before));
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Contains("key", old.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_token_that_passed_before_is_still_held_to_each_endpoints_audience_and_scopes()
    {
        // Admitted on open (the gateway's audience, mcp.access), then refused on docs, which wants docs.read.
        var forGateway = await fixture.TokenAsync(AuthorizationServer.Reader, "");
        using (var open = await SendAsync(forGateway, "/open/stream"))
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        using (var docs = await SendAsync(forGateway))
        {
            Assert.Equal(HttpStatusCode.Forbidden, docs.StatusCode);
            Assert.Contains("error=\"insufficient_scope\"", docs.Headers.WwwAuthenticate.ToString());
        }

        // Admitted on open, whose URI it names, then refused on docs, which it does not.
        var forOpen = await fixture.TokenAsync(AuthorizationServer.Agent, "open/stream");
        using (var open = await SendAsync(forOpen, "/open/stream"))
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        await AssertInvalidTokenAsync(forOpen, "audience");
    }

    private async Task AssertInvalidTokenAsync(string token, string? described, string path = Path)
    {
        using var response = await SendAsync(token, path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith($"Bearer resource_metadata=\"{fixture.Resource("")}/.well-known/oauth-protected-resource{path}\"", challenge);
        Assert.Contains("error=\"invalid_token\"", challenge);
        if (described is not null) Assert.Contains(described, challenge);
        Assert.DoesNotContain(token, challenge + await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> SendAsync(string token, string path = Path) =>
        fixture.Http.SendAsync(RawMcp.Post(path, RawMcp.Initialize, token: token));

    private string Metadata() => $"{fixture.Resource("")}/.well-known/oauth-protected-resource{Path}";

    private static string KeyId(string jwt) => System.Text.Json.JsonDocument.Parse(Base64Url(jwt.Split('.')[0])).RootElement.GetProperty("kid").GetString()!;

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }
}
