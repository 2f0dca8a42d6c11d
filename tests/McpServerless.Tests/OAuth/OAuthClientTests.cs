using System.Text.Json;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;

namespace McpServerless.Tests.OAuth;

/// <summary>
/// The MCP SDKs' own OAuth clients against the gateway and a real authorization server, with nothing configured but
/// the client's credentials: a 401, the protected resource metadata, authorization server discovery, a token for the
/// endpoint's resource, then tool calls.
/// </summary>
public sealed class OAuthClientTests(OAuthGateway fixture) : IClassFixture<OAuthGateway>
{
    [Theory]
    [InlineData("docs/stream", "echo")]
    [InlineData("mcp", "docs__echo")]
    public async Task The_typescript_sdk_gets_a_client_credentials_token_and_calls_a_tool(string path, string expectedTool)
    {
        var before = await fixture.Issuer.TokensIssuedAsync(AuthorizationServer.Agent);
        var agent = AuthorizationServer.Agent;
        await using var node = ExternalProcess.Start("node",
            [TestTools.NodeScript("ts-oauth-client.mjs"), fixture.Resource(path), fixture.Issuer.Issuer, agent.Id, agent.Secret!, agent.Scope!]);
        var output = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));

        using var seen = JsonDocument.Parse(output.Trim().Split('\n').Last());
        Assert.Equal("with a token", seen.RootElement.GetProperty("echo").GetString());
        Assert.Contains(seen.RootElement.GetProperty("tools").EnumerateArray(), t => t.GetString() == expectedTool);
        // The client asked for the resource the metadata named: the endpoint's canonical URI.
        Assert.Equal(fixture.Resource(path), seen.RootElement.GetProperty("audience").GetString());
        Assert.True(await fixture.Issuer.TokensIssuedAsync(agent) > before);
    }

    [Theory]
    [InlineData("docs/stream", "echo")]
    [InlineData("mcp", "open__echo")]
    public async Task The_csharp_sdk_signs_in_with_the_authorization_code_and_pkce_and_calls_a_tool(string path, string tool)
    {
        var approvals = 0;
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(fixture.Resource(path)),
            OAuth = new ClientOAuthOptions
            {
                ClientId = AuthorizationServer.Interactive.Id,
                ClientSecret = AuthorizationServer.Interactive.Secret,
                RedirectUri = AuthorizationServer.RedirectUri,
                AuthorizationCallbackHandler = (context, cancellationToken) =>
                {
                    approvals++;
                    return fixture.Issuer.ApproveAsync(context, cancellationToken);
                },
            },
        }), new McpClientOptions { ProtocolVersion = ProxyHarness.SessionProtocol });

        Assert.Contains(await client.ListToolsAsync(), t => t.Name == tool);
        var result = await client.CallToolAsync(tool, new Dictionary<string, object?> { ["message"] = "signed in" });
        Assert.Equal("signed in", result.Text());
        Assert.Equal(1, approvals);
    }
}
