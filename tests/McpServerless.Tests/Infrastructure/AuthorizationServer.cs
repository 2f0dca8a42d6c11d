using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;
using ModelContextProtocol.Authentication;

namespace McpServerless.Tests.Infrastructure;

/// <summary>
/// A real OAuth 2.1 authorization server on a free loopback port: npm's oidc-provider (OpenID Certified), configured by
/// tests/node/oauth-server.mjs. It issues JWT access tokens for any RFC 8707 resource, by client credentials and by the
/// authorization code grant with PKCE, whose login and consent <see cref="ApproveAsync"/> goes through as a user would.
/// </summary>
public sealed class AuthorizationServer : IAsyncDisposable
{
    /// <summary>Every scope the server knows.</summary>
    public static readonly string[] Scopes = ["mcp.access", "mcp.admin", "docs.read"];

    /// <summary>A confidential client that may ask for every scope (client credentials).</summary>
    public static readonly Client Agent = new("agent", "agent-secret-0123456789", ["client_credentials"], Scope: "mcp.access mcp.admin docs.read");

    /// <summary>A confidential client that may ask for <c>mcp.access</c> only.</summary>
    public static readonly Client Reader = new("reader", "reader-secret-0123456789", ["client_credentials"], Scope: "mcp.access");

    /// <summary>An app with app roles and no scopes, as Entra ID issues client-credentials tokens.</summary>
    public static readonly Client RoleApp = new("role-app", "role-app-secret-0123456789", ["client_credentials"], Roles: ["Docs.Reader", "McpGateway.Admin"]);

    /// <summary>A client whose tokens live two seconds.</summary>
    public static readonly Client ShortLived = new("short-lived", "short-secret-0123456789", ["client_credentials"], Scope: "mcp.access", AccessTokenTtl: 2);

    /// <summary>The gateway's own client, for upstreams that want its tokens; they live four seconds, so a test sees several.</summary>
    public static readonly Client Gateway = new("gateway", "gateway-secret-0123456789", ["client_credentials"], AccessTokenTtl: 4);

    /// <summary>Where <see cref="Interactive"/> is sent back to; nothing listens there, <see cref="ApproveAsync"/> stops at it.</summary>
    public static readonly Uri RedirectUri = new("http://127.0.0.1:9/callback");

    /// <summary>
    /// A client for the authorization code grant with PKCE (a user's agent). Confidential: the C# SDK, knowing nothing
    /// of a pre-registered client, authenticates it by the server's first advertised method, client_secret_basic.
    /// </summary>
    public static readonly Client Interactive = new("interactive", "interactive-secret-0123456789", ["authorization_code"], RedirectUris: [RedirectUri.ToString()]);

    private static readonly Client[] Clients = [Agent, Reader, RoleApp, ShortLived, Gateway, Interactive];

    private readonly ExternalProcess _process;
    private readonly string _config;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private AuthorizationServer(ExternalProcess process, string config, int port, string issuer)
    {
        _process = process;
        _config = config;
        Address = new Uri($"http://127.0.0.1:{port}");
        Issuer = issuer;
    }

    public sealed record Client(string Id, string? Secret, string[] GrantTypes, string? Scope = null, int? AccessTokenTtl = null, string[]? RedirectUris = null, string[]? Roles = null);

    /// <summary>Where the server listens.</summary>
    public Uri Address { get; }

    /// <summary>The issuer its tokens name (its address unless started as another server's impostor).</summary>
    public string Issuer { get; }

    /// <param name="issuer">An issuer to claim other than its own address: a server that impersonates another.</param>
    /// <param name="discovery"><c>oidc</c>, or <c>rfc8414</c> for a server that publishes only RFC 8414 metadata.</param>
    public static async Task<AuthorizationServer> StartAsync(string? issuer = null, string discovery = "oidc")
    {
        // A free port can be taken by another process between the probe and node's bind: then the listener found is
        // not this server (node exits with EADDRINUSE), its test endpoint does not answer, and a new port is tried.
        for (var attempt = 1; ; attempt++)
        {
            AuthorizationServer? server = null;
            try
            {
                server = await StartOnPortAsync(TestTools.FreeTcpPort(), issuer, discovery);
                await server.TokensIssuedAsync(Agent);
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                if (server is not null) await server.DisposeAsync();
            }
        }
    }

    private static async Task<AuthorizationServer> StartOnPortAsync(int port, string? issuer, string discovery)
    {
        issuer ??= $"http://127.0.0.1:{port}";
        var config = Path.Combine(Path.GetTempPath(), $"oauth-server-{Guid.NewGuid():N}.json");
        var clients = new JsonArray([.. Clients.Select(c => (JsonNode)new JsonObject
        {
            ["client_id"] = c.Id,
            ["client_secret"] = c.Secret,
            ["grant_types"] = new JsonArray([.. c.GrantTypes.Select(g => (JsonNode)g)]),
            ["scope"] = c.Scope,
            ["accessTokenTTL"] = c.AccessTokenTtl,
            ["redirect_uris"] = c.RedirectUris is null ? null : new JsonArray([.. c.RedirectUris.Select(u => (JsonNode)u)]),
            ["application_type"] = c.RedirectUris is null ? null : "native",
            ["roles"] = c.Roles is null ? null : new JsonArray([.. c.Roles.Select(r => (JsonNode)r)]),
        })]);
        foreach (var client in clients.OfType<JsonObject>())
        {
            foreach (var empty in client.Where(p => p.Value is null).Select(p => p.Key).ToList()) client.Remove(empty);
        }
        var settings = new JsonObject { ["port"] = port, ["issuer"] = issuer, ["scopes"] = new JsonArray([.. Scopes.Select(s => (JsonNode)s)]), ["clients"] = clients, ["discovery"] = discovery };
        await File.WriteAllTextAsync(config, settings.ToJsonString());

        var process = ExternalProcess.Start("node", [TestTools.NodeScript("oauth-server.mjs"), config]);
        await process.WaitForPortAsync(port);
        return new AuthorizationServer(process, config, port, issuer);
    }

    /// <summary>A client-credentials access token for <paramref name="resource"/>, with the client's scopes or <paramref name="scope"/>.</summary>
    public async Task<string> TokenAsync(Client client, string resource, string? scope = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Address, "token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["resource"] = resource,
                ["scope"] = scope ?? client.Scope ?? "",
            }.Where(p => p.Value.Length > 0)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{client.Id}:{client.Secret}")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"token request failed: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    /// <summary>Signs with a new key from now on, still publishing the old one (a key rollover) unless <paramref name="withdrawOld"/>.</summary>
    public async Task RotateKeysAsync(bool withdrawOld = false)
    {
        using var response = await _http.PostAsync(new Uri(Address, withdrawOld ? "_test/rotate?withdraw=true" : "_test/rotate"), null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>How many tokens the server has issued to <paramref name="client"/>.</summary>
    public async Task<int> TokensIssuedAsync(Client client)
    {
        var stats = JsonNode.Parse(await _http.GetStringAsync(new Uri(Address, "_test/stats")))!;
        return stats["tokens"]?[client.Id]?.GetValue<int>() ?? 0;
    }

    /// <summary>The managed-identity endpoint the server plays (App Service protocol), for <c>IDENTITY_ENDPOINT</c>.</summary>
    public Uri ManagedIdentityEndpoint => new(Address, "_test/msi/token");

    /// <summary>
    /// The user's part of the authorization code grant: opens the authorization URL, lets the server's login and consent
    /// pages approve at once (cookies kept, redirects followed), and returns what arrives at the redirect URI.
    /// </summary>
    public async Task<AuthorizationResult?> ApproveAsync(AuthorizationCallbackContext context, CancellationToken cancellationToken)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });
        var next = context.AuthorizationUri;
        for (var hop = 0; hop < 10; hop++)
        {
            using var response = await browser.GetAsync(next, cancellationToken);
            Assert.True((int)response.StatusCode is >= 300 and < 400, $"{next} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            next = new Uri(next, response.Headers.Location!);
            if (next.GetLeftPart(UriPartial.Path) == context.RedirectUri.GetLeftPart(UriPartial.Path))
            {
                var query = HttpUtility.ParseQueryString(next.Query);
                Assert.Null(query["error"]);
                return new AuthorizationResult { Code = query["code"], State = query["state"], Iss = query["iss"] };
            }
        }
        throw new InvalidOperationException("The authorization server never redirected back.");
    }

    /// <summary>Decodes a JWT's payload (for assertions on what a real token says, never to make one).</summary>
    public static JsonElement Claims(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
        File.Delete(_config);
    }
}
