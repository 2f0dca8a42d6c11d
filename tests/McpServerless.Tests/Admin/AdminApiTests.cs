using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using McpServerless.Audit;
using McpServerless.Client;
using McpServerless.Model;
using McpServerless.Security;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Admin;

/// <summary>
/// The admin API's behaviour, asserted once and run against every host that serves it: the local host
/// (<see cref="LocalHostAdminApiTests"/>) and the Functions triggers (<see cref="FunctionsAdminApiTests"/>).
/// Paths are relative to each host's admin base address.
/// </summary>
public abstract class AdminApiTests : IAsyncLifetime
{
    private IAdminTestHost _gateway = null!;

    protected abstract Task<IAdminTestHost> StartHostAsync();

    public async Task InitializeAsync() => _gateway = await StartHostAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Health_needs_no_token_and_reports_ok()
    {
        using var response = await _gateway.Http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("healthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetString());
    }

    [Theory]
    [InlineData("healthz/live", new string[0])]
    [InlineData("healthz/ready", new[] { "storage", "changeFeed" })]
    public async Task Probes_run_only_their_own_checks(string path, string[] checks)
    {
        using var response = await _gateway.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
        Assert.Equal(checks, body.RootElement.GetProperty("checks").EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task An_unknown_probe_is_404_problem_details()
    {
        using var response = await _gateway.Http.GetAsync("healthz/sideways");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Bearer test-admin-token-but-longer")]
    [InlineData("Basic dGVzdC1hZG1pbi10b2tlbg==")]
    public async Task Missing_or_wrong_token_gets_401_with_a_bearer_challenge(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/mcps");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Register_answers_201_with_location_and_etag()
    {
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", Json("""{"name":"files","transport":"stdio","command":"node","args":["server.js"],"timeout":"30s"}"""));
        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(_gateway.PathOf("admin/mcps/files"), response.Headers.Location?.OriginalString);
        Assert.NotNull(response.Headers.ETag);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var definition = body.RootElement.GetProperty("definition");
        Assert.Equal("stdio", definition.GetProperty("transport").GetString());
        Assert.Equal("30s", definition.GetProperty("timeout").GetString());
        Assert.Equal("files", body.RootElement.GetProperty("status").GetProperty("name").GetString());
        Assert.NotEqual("connected", body.RootElement.GetProperty("status").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Register_twice_answers_409()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("dup"));
        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.RegisterAsync(Definitions.Stdio("dup")));
        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Contains("dup", ex.Problem?.Detail);
    }

    [Fact]
    public async Task Invalid_definition_lists_every_invalid_field()
    {
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps",
            Json("""{"name":"-bad name","transport":"sse","url":"ftp://example","timeout":"-1s","maxReconnects":-2,"allowedIPs":["10.0.0.0/99"],"healthCheckInterval":"10ms","toolsCacheTtl":"-5s","protocolVersion":"2099-01-01"}"""));
        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = body.RootElement.GetProperty("errors");
        foreach (var field in new[] { "name", "url", "timeout", "maxReconnects", "allowedIPs", "healthCheckInterval", "toolsCacheTtl", "protocolVersion" })
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
    }

    [Theory]
    [InlineData("""{"transport":"stdio","command":"x"}""", "name")]
    [InlineData("""{"name":"admin","transport":"stdio","command":"x"}""", "name")]
    [InlineData("""{"name":"ui","transport":"stdio","command":"x"}""", "name")]
    [InlineData("""{"name":"a","transport":"stdio","command":"x","authTokens":["***"]}""", "authTokens")]
    [InlineData("""{"name":"a","command":"x"}""", "transport")]
    [InlineData("""{"name":"a","transport":"stdio"}""", "command")]
    [InlineData("""{"name":"a","transport":"streamable-http","url":"/relative"}""", "url")]
    public async Task Missing_or_wrong_required_fields_are_named(string json, string field)
    {
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", Json(json));
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Update_replaces_and_bumps_the_version()
    {
        var created = await _gateway.Admin.RegisterAsync(Definitions.Stdio("svc"));
        var updated = await _gateway.Admin.UpdateAsync("svc", Definitions.Stdio("svc") with { Description = "v2" });

        Assert.Equal("v2", updated.Definition.Description);
        Assert.NotEqual(created.Version, updated.Version);
        Assert.Equal("v2", (await _gateway.Admin.GetAsync("svc"))?.Definition.Description);
    }

    [Fact]
    public async Task Update_of_an_absent_server_answers_404()
    {
        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.UpdateAsync("ghost", Definitions.Stdio("ghost")));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task Update_whose_body_names_another_server_answers_400()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("one"));
        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.UpdateAsync("one", Definitions.Stdio("two")));
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.True(ex.Problem?.Errors.ContainsKey("name"));
    }

    [Fact]
    public async Task Update_with_a_stale_if_match_answers_409_and_keeps_the_newer_write()
    {
        var created = await _gateway.Admin.RegisterAsync(Definitions.Stdio("race"));
        await _gateway.Admin.UpdateAsync("race", Definitions.Stdio("race") with { Description = "first" }, created.Version);

        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() =>
            _gateway.Admin.UpdateAsync("race", Definitions.Stdio("race") with { Description = "second" }, created.Version));

        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Equal("first", (await _gateway.Admin.GetAsync("race"))?.Definition.Description);
    }

    [Fact]
    public async Task Delete_answers_204_then_404()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("gone"));
        using (var first = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Delete, "admin/mcps/gone")))
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        using (var second = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Delete, "admin/mcps/gone")))
            Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.Null(await _gateway.Admin.GetAsync("gone"));
    }

    [Fact]
    public async Task List_shows_every_server_with_status()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("b"));
        await _gateway.Admin.RegisterAsync(Definitions.Http("a"));

        var list = await _gateway.Admin.ListAsync();

        Assert.Equal(["a", "b"], list.Select(e => e.Definition.Name));
        // Neither is a reachable MCP server ("echo" exits, port 9 is closed), so neither may claim to be connected.
        Assert.All(list, e => Assert.NotEqual(ConnectionState.Connected, e.Status.State));
    }

    [Fact]
    public async Task Tools_are_an_empty_list_when_nothing_is_connected()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("quiet"));
        Assert.Empty(await _gateway.Admin.ListToolsAsync());
    }

    [Fact]
    public async Task Metrics_count_requests_and_errors_per_route()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("m"));
        await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.RegisterAsync(Definitions.Stdio("m")));

        var metrics = await _gateway.Admin.GetMetricsAsync();

        Assert.Equal(1, metrics.RegisteredMcps);
        Assert.Equal(0, metrics.ConnectedMcps);
        var route = $"POST {_gateway.PathOf("admin/mcps")}";
        Assert.Equal(2, metrics.Routes[route].Requests);
        Assert.Equal(1, metrics.Routes[route].Errors);
        Assert.True(metrics.UptimeSeconds >= 0);
    }

    [Fact]
    public async Task Secrets_never_come_back_but_keep_working_after_a_round_trip()
    {
        var definition = Definitions.Http("secretive") with
        {
            Headers = new Dictionary<string, string> { ["X-Api-Key"] = "header-secret-1" },
            AuthTokens = ["token-secret-2"],
        };
        await _gateway.Admin.RegisterAsync(definition);
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("envy") with { Env = new Dictionary<string, string> { ["KEY"] = "env-secret-3" } });

        foreach (var path in new[] { "admin/mcps", "admin/mcps/secretive", "admin/mcps/envy" })
        {
            using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, path));
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("secret-", text);
            Assert.Contains("***", text);
        }

        // A client that PUTs back what it read (masks included) keeps the stored secrets.
        var read = await _gateway.Admin.GetAsync("secretive");
        await _gateway.Admin.UpdateAsync("secretive", read!.Definition with { Description = "edited" });
        var stored = await _gateway.GetStoredAsync("secretive");
        Assert.Equal("header-secret-1", stored!.Headers!["X-Api-Key"]);
        Assert.Equal(["token-secret-2"], stored.AuthTokens);
        Assert.Equal("edited", stored.Description);
    }

    [Theory]
    [InlineData("""{"authTokens":["***"]}""", "authTokens")] // one mask for two stored tokens
    [InlineData("""{"authTokens":["***","***","***"]}""", "authTokens")]
    [InlineData("""{"authTokens":["***","new-token"]}""", "authTokens")]
    [InlineData("""{"authTokens":["token-a","token-b"],"headers":{"X-New":"***"}}""", "headers")] // no stored value to keep
    [InlineData("""{"authTokens":["token-a","token-b"],"env":{"NEW":"***"}}""", "env")]
    public async Task A_mask_is_never_stored_as_a_secret(string secrets, string field)
    {
        await _gateway.Admin.RegisterAsync(Definitions.Http("masked") with { AuthTokens = ["token-a", "token-b"] });
        var body = secrets.Replace("{", """{"transport":"streamable-http","url":"http://127.0.0.1:9/mcp",""", StringComparison.Ordinal);

        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Put, "admin/mcps/masked", Json(body)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), problem.RootElement.ToString());
        Assert.Equal(["token-a", "token-b"], (await _gateway.GetStoredAsync("masked"))!.AuthTokens);
    }

    [Fact]
    public async Task A_mask_is_refused_on_registration()
    {
        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Post, "admin/mcps",
            Json("""{"name":"fresh","transport":"stdio","command":"c","authTokens":["***"],"env":{"K":"***"}}""")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("authTokens", out _));
        Assert.True(errors.TryGetProperty("env", out _));
        Assert.Null(await _gateway.GetStoredAsync("fresh"));
    }

    [Fact]
    public async Task A_masked_token_that_no_longer_lines_up_with_a_stored_one_is_refused_not_stored()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Http("guarded") with { AuthTokens = ["token-one", "token-two"] });
        var read = (await _gateway.Admin.GetAsync("guarded"))!;

        // Dropping one of two masked tokens leaves no way to tell which stored token "***" means.
        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.UpdateAsync("guarded", read.Definition with { AuthTokens = ["***"] }));
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.True(ex.Problem!.Errors.ContainsKey("authTokens"));
        Assert.Equal(["token-one", "token-two"], (await _gateway.GetStoredAsync("guarded"))!.AuthTokens);
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_name_have_exactly_one_winner()
    {
        var attempts = Enumerable.Range(0, 32).Select(async _ =>
        {
            using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", Json("""{"name":"contended","transport":"stdio","command":"echo"}"""));
            using var response = await _gateway.Http.SendAsync(request);
            return response.StatusCode;
        });
        var codes = await Task.WhenAll(attempts);

        Assert.Single(codes, c => c == HttpStatusCode.Created);
        Assert.Equal(31, codes.Count(c => c == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData("{\"name\":\"x\",", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("null", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("[1,2]", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","transport":"stdio","command":"c","args":"not-a-list"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","transport":"carrier-pigeon","command":"c"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","transport":"stdio","command":"c","timeout":"soon"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"x","transport":"stdio","command":"c"}""", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    public async Task Bad_bodies_get_a_4xx_problem(string body, string contentType, HttpStatusCode expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Post, "admin/mcps", content));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invalid_utf8_gets_400()
    {
        var bytes = "{\"name\":\"x\",\"transport\":\"stdio\",\"command\":\""u8.ToArray().Concat(new byte[] { 0xC3, 0x28 }).Concat("\"}"u8.ToArray()).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Post, "admin/mcps", content));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Bodies_over_one_megabyte_get_413_and_the_gateway_keeps_serving()
    {
        var big = $$"""{"name":"x","transport":"stdio","command":"c","description":"{{new string('a', 1_100_000)}}"}""";
        using (var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Post, "admin/mcps", Json(big))))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        // Also without a Content-Length, streamed in chunks.
        using var streamed = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        streamed.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var chunked = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", streamed);
        chunked.Headers.TransferEncodingChunked = true;
        using (var response = await _gateway.Http.SendAsync(chunked))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        Assert.Equal("ok", (await _gateway.Admin.HealthAsync()).Status);
    }

    [Fact]
    public async Task Durations_accept_go_strings_timespans_and_nanoseconds()
    {
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps",
            Json("""{"name":"d","transport":"stdio","command":"c","timeout":"1m30s","reconnectDelay":"00:00:02","healthCheckInterval":15000000000}"""));
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var stored = await _gateway.GetStoredAsync("d");
        Assert.Equal(TimeSpan.FromSeconds(90), stored!.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(2), stored.ReconnectDelay);
        Assert.Equal(TimeSpan.FromSeconds(15), stored.HealthCheckInterval);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"timeout\":\"1m30s\"", text);
        Assert.Contains("\"healthCheckInterval\":\"15s\"", text);
    }

    [Fact]
    public async Task Server_changes_leave_audit_entries_newest_first_refused_ones_included()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("audited"));
        await _gateway.Admin.UpdateAsync("audited", Definitions.Stdio("audited") with { Description = "v2" });
        using (var refused = await _gateway.Http.DeleteAsync("admin/mcps/audited"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await _gateway.Admin.UnregisterAsync("audited");
        await Assert.ThrowsAsync<McpProxyClientException>(() => _gateway.Admin.UnregisterAsync("audited"));

        var page = await Eventually.GetAsync(() => _gateway.Admin.GetAuditAsync(new AuditQuery { Server = "audited" }), p => p.Entries.Count == 5, "five audit entries");

        var token = TokenSet.Fingerprint(IAdminTestHost.AdminToken);
        Assert.Equal(["mcps/delete", "mcps/delete", "mcps/delete", "mcps/update", "mcps/create"], page.Entries.Select(e => e.Method));
        Assert.Equal(["404", "ok", "refused", "ok", "ok"], page.Entries.Select(e => e.Outcome));
        Assert.Equal([token, token, null, token, token], page.Entries.Select(e => e.Caller.Token));
        Assert.All(page.Entries, e =>
        {
            Assert.Equal(AuditRoutes.Admin, e.Route);
            Assert.Equal("127.0.0.1", e.Caller.Ip);
            Assert.False(string.IsNullOrEmpty(e.Replica));
            Assert.True(e.DurationMs >= 0);
            Assert.Null(e.Tool);
            Assert.Null(e.Arguments);
        });
        Assert.True(page.Entries[^1].RequestBytes > 0);
        Assert.True(page.Entries.Select(e => e.Time).SequenceEqual(page.Entries.Select(e => e.Time).OrderDescending()));
        Assert.Null(page.Next);

        // The caller filter takes a token fingerprint; the refused attempt had none.
        var byToken = await _gateway.Admin.GetAuditAsync(new AuditQuery { Server = "audited", Caller = token, Since = DateTimeOffset.UtcNow.AddMinutes(-10) });
        Assert.Equal(4, byToken.Entries.Count);
    }

    [Fact]
    public async Task Audit_answers_entries_and_next_in_the_documented_shape()
    {
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("first"));
        await _gateway.Admin.RegisterAsync(Definitions.Stdio("second"));
        await Eventually.GetAsync(() => _gateway.Admin.GetAuditAsync(), p => p.Entries.Count == 2, "two audit entries");

        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, "admin/audit?limit=1&since=10m&caller=127.0.0.1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var entry = Assert.Single(body.RootElement.GetProperty("entries").EnumerateArray());
        Assert.Equal(
            ["caller", "durationMs", "method", "outcome", "replica", "requestBytes", "responseBytes", "route", "server", "time", "tool"],
            entry.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("second", entry.GetProperty("server").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("tool").ValueKind);
        Assert.Equal(["ip", "principal", "token"], entry.GetProperty("caller").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        var next = body.RootElement.GetProperty("next").GetString();
        using var second = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, $"admin/audit?limit=1&since=10m&caller=127.0.0.1&cursor={next}"));
        using var secondBody = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal("first", Assert.Single(secondBody.RootElement.GetProperty("entries").EnumerateArray()).GetProperty("server").GetString());
        Assert.Equal(JsonValueKind.Null, secondBody.RootElement.GetProperty("next").ValueKind);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("since=yesterday", "since")]
    [InlineData("since=-5m", "since")]
    [InlineData("server=a&server=b", "server")]
    [InlineData("cursor=%21%21%21", "cursor")]
    [InlineData("cursor=c29tZXdoZXJl", "cursor")]
    public async Task Bad_audit_query_values_get_400_naming_the_parameter(string query, string parameter)
    {
        using var response = await _gateway.Http.SendAsync(_gateway.AdminRequest(HttpMethod.Get, $"admin/audit?{query}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal([parameter], body.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Audit_needs_the_admin_token()
    {
        using var response = await _gateway.Http.GetAsync("admin/audit");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("timeout", "\"99999999999999999999999h\"")]
    [InlineData("timeout", "\"00:00:00.0000001\"")]
    [InlineData("timeout", "\"25h\"")]
    [InlineData("reconnectDelay", "\"500us\"")]
    [InlineData("reconnectDelay", "1")] // one nanosecond
    [InlineData("healthCheckInterval", "\"99999999999999999999999999999h\"")]
    public async Task Durations_outside_one_millisecond_to_a_day_are_400_naming_the_field(string field, string value)
    {
        using var request = _gateway.AdminRequest(HttpMethod.Post, "admin/mcps", Json($$"""{"name":"d","transport":"stdio","command":"c","{{field}}":{{value}}}"""));
        using var response = await _gateway.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(field, text);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}

public sealed class LocalHostAdminApiTests : AdminApiTests
{
    protected override async Task<IAdminTestHost> StartHostAsync() => await GatewayHarness.StartAsync();
}

public sealed class FunctionsAdminApiTests : AdminApiTests
{
    protected override async Task<IAdminTestHost> StartHostAsync() => await FunctionsHarness.StartAsync();
}
