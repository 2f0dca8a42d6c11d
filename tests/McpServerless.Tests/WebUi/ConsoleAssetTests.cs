using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using McpServerless.Tests.Infrastructure;
using McpServerless.WebUi;

namespace McpServerless.Tests.WebUi;

/// <summary>
/// How each host serves the console's files over HTTP: the same bytes, types, caching and security headers beside
/// each admin API (<see cref="GatewayConsoleAssetTests"/>, <see cref="FunctionsConsoleAssetTests"/>).
/// </summary>
public abstract class ConsoleAssetTests : IAsyncLifetime
{
    private IAdminTestHost _host = null!;
    private HttpClient _http = null!;

    protected abstract Task<IAdminTestHost> StartHostAsync();

    protected abstract bool ServesProxyEndpoints { get; }

    public async Task InitializeAsync()
    {
        _host = await StartHostAsync();
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _host.Http.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task The_console_root_redirects_relatively_to_its_slash_form()
    {
        using var response = await _http.GetAsync("ui");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("ui/", response.Headers.Location?.OriginalString); // resolves beside any prefix a front proxy adds
    }

    [Fact]
    public async Task The_index_is_served_without_a_token_and_holds_no_inline_script_or_style()
    {
        using var response = await _http.GetAsync("ui/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"js/main.js\"></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, html.Split("<script", StringSplitOptions.None).Length - 1);
    }

    [Fact]
    public async Task Every_file_has_its_type_a_strict_policy_and_an_etag_that_revalidates()
    {
        var expected = new Dictionary<string, string>
        {
            [".html"] = "text/html", [".js"] = "text/javascript", [".css"] = "text/css", [".svg"] = "image/svg+xml",
        };
        Assert.Contains("index.html", WebUiAssets.Files);
        foreach (var file in WebUiAssets.Files)
        {
            using var response = await _http.GetAsync("ui/" + file);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected[Path.GetExtension(file)], response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(WebUiAssets.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.True(response.Headers.CacheControl?.NoCache, file);
            var etag = response.Headers.ETag ?? throw new Xunit.Sdk.XunitException($"{file} has no ETag");

            using var again = new HttpRequestMessage(HttpMethod.Get, "ui/" + file);
            again.Headers.IfNoneMatch.Add(etag);
            using var revalidated = await _http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        }
    }

    [Fact]
    public async Task The_policy_forbids_inline_code_and_other_origins()
    {
        using var response = await _http.GetAsync("ui/");
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("style-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_tell_the_console_whether_tools_can_be_tried_here()
    {
        using var response = await _http.GetAsync("ui/settings.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        using var settings = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ServesProxyEndpoints, settings.RootElement.GetProperty("proxyEndpoints").GetBoolean());
        Assert.Equal(["token"], settings.RootElement.GetProperty("signIn").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("ui/nope.js")]
    [InlineData("ui/js/..%2F..%2Fappsettings.json")] // an encoded slash survives the client and reaches the route
    public async Task Nothing_but_the_embedded_files_is_served(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Head_answers_like_get_without_a_body()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "ui/app.css");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }
}

public sealed class GatewayConsoleAssetTests : ConsoleAssetTests
{
    protected override bool ServesProxyEndpoints => true;

    protected override async Task<IAdminTestHost> StartHostAsync() => await GatewayHarness.StartAsync();
}

public sealed class FunctionsConsoleAssetTests : ConsoleAssetTests
{
    protected override bool ServesProxyEndpoints => false;

    protected override async Task<IAdminTestHost> StartHostAsync() => await FunctionsHarness.StartAsync();
}
