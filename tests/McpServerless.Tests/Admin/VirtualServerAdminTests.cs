using System.Net;
using System.Text;
using System.Text.Json;
using McpServerless.Audit;
using McpServerless.Client;
using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.Tests.Infrastructure;
using McpServerless.VirtualServers;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Admin;

/// <summary>
/// <c>/admin/virtual-servers</c> and <c>/admin/tools?virtual=</c>, asserted once and run on both hosts: the local host,
/// where a member server's tools come from a live connection to the real test MCP server, and the Functions triggers,
/// where they come from what proxy replicas reported to the store.
/// </summary>
public abstract class VirtualServerAdminTests : IAsyncLifetime
{
    /// <summary>The tools of the test MCP server (tests/TestMcpServer).</summary>
    protected static readonly string[] TestServerTools = ["echo", "echo_meta", "add", "sleep", "progress", "fail", "big", "whoami", "env", "read_secret", "ask", "summarize", "add_tool", "caller", "touch"];

    private IAdminTestHost _host = null!;

    protected IAdminTestHost Host => _host;

    protected McpProxyClient Admin => _host.Admin;

    protected abstract Task<IAdminTestHost> StartHostAsync();

    /// <summary>Registers the test MCP server as <paramref name="name"/> and returns once its (filtered) tools are known to the admin API.</summary>
    protected abstract Task RegisterTestServerAsync(string name, ToolFilter? filter = null);

    public async Task InitializeAsync() => _host = await StartHostAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Create_answers_201_with_location_etag_and_the_entry_then_get_list_update_and_delete_follow()
    {
        using var response = await Send(HttpMethod.Post, "admin/virtual-servers",
            """{"name":"team-a","description":"For team A","tools":["ghost:echo"],"authTokens":["team-secret"]}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(Host.PathOf("admin/virtual-servers/team-a"), response.Headers.Location?.OriginalString);
        var etag = response.Headers.ETag!.Tag;
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            var root = body.RootElement;
            Assert.Equal(["definition", "tools", "unresolvedTools", "version", "warnings"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("For team A", root.GetProperty("definition").GetProperty("description").GetString());
            Assert.Equal($"\"{root.GetProperty("version").GetString()}\"", etag);
        }

        var read = (await Admin.GetVirtualServerAsync("team-a"))!;
        Assert.Equal("For team A", read.Definition.Description);
        Assert.Equal(["team-a"], (await Admin.ListVirtualServersAsync()).Select(e => e.Definition.Name));

        var updated = await Admin.UpdateVirtualServerAsync("team-a", read.Definition with { Description = "v2" }, read.Version);
        Assert.NotEqual(read.Version, updated.Version);
        Assert.Equal("v2", (await Admin.GetVirtualServerAsync("team-a"))!.Definition.Description);

        var stale = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.UnregisterVirtualServerAsync("team-a", read.Version));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        await Admin.UnregisterVirtualServerAsync("team-a", updated.Version);
        Assert.Null(await Admin.GetVirtualServerAsync("team-a"));
        var gone = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.UnregisterVirtualServerAsync("team-a"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("virtual server", gone.Problem?.Detail);
    }

    [Fact]
    public async Task A_stale_if_match_on_update_answers_409_and_keeps_the_newer_write()
    {
        var created = await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "race" });
        await Admin.UpdateVirtualServerAsync("race", new VirtualServerDefinition { Description = "first" }, created.Version);

        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() =>
            Admin.UpdateVirtualServerAsync("race", new VirtualServerDefinition { Description = "second" }, created.Version));

        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Equal("first", (await Admin.GetVirtualServerAsync("race"))!.Definition.Description);
    }

    [Fact]
    public async Task Invalid_definitions_get_400_naming_every_field()
    {
        using var response = await Send(HttpMethod.Post, "admin/virtual-servers",
            """{"name":"sse","tools":["no-colon"],"prompts":["a:b"],"overrides":{"a:*":{"name":"x"}},"allowedIPs":["nowhere"],"authTokens":["***"]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("The virtual server definition is invalid.", body.RootElement.GetProperty("title").GetString());
        Assert.Equal(["allowedIPs", "authTokens", "name", "overrides", "tools"],
            body.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Null(await Admin.GetVirtualServerAsync("sse"));
    }

    [Theory]
    [InlineData("{\"name\":", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("[]", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"v","tools":"a:b"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"v","overrides":{"a:b":"say"}}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"name":"v"}""", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    public async Task Bad_bodies_get_a_4xx_problem(string json, string contentType, HttpStatusCode expected)
    {
        using var request = Host.AdminRequest(HttpMethod.Post, "admin/virtual-servers", new StringContent(json, Encoding.UTF8, contentType));
        using var response = await Host.Http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Update_of_an_absent_or_renamed_virtual_server_is_refused()
    {
        var absent = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.UpdateVirtualServerAsync("ghost", new VirtualServerDefinition()));
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);

        await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "one" });
        var renamed = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.UpdateVirtualServerAsync("one", new VirtualServerDefinition { Name = "two" }));
        Assert.Equal(HttpStatusCode.BadRequest, renamed.StatusCode);
        Assert.True(renamed.Problem!.Errors.ContainsKey("name"));
    }

    [Fact]
    public async Task Servers_and_virtual_servers_cannot_share_a_name_and_neither_route_reaches_the_other_kind()
    {
        await Admin.RegisterAsync(Definitions.Stdio("taken"));
        await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "curated" });

        var asVirtual = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "taken" }));
        var asServer = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.RegisterAsync(Definitions.Stdio("curated")));
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (asVirtual.StatusCode, asServer.StatusCode));
        Assert.Contains("share one namespace", asVirtual.Problem?.Detail);
        Assert.Contains("virtual server", asServer.Problem?.Detail);

        Assert.Null(await Admin.GetAsync("curated"));
        Assert.Null(await Admin.GetVirtualServerAsync("taken"));
        using (var deleteServer = await Host.Http.SendAsync(Host.AdminRequest(HttpMethod.Delete, "admin/mcps/curated")))
            Assert.Equal(HttpStatusCode.NotFound, deleteServer.StatusCode);
        using (var deleteVirtual = await Host.Http.SendAsync(Host.AdminRequest(HttpMethod.Delete, "admin/virtual-servers/taken")))
            Assert.Equal(HttpStatusCode.NotFound, deleteVirtual.StatusCode);
        Assert.NotNull(await Admin.GetVirtualServerAsync("curated"));
        Assert.Equal(["taken"], (await Admin.ListAsync()).Select(e => e.Definition.Name));
    }

    [Fact]
    public async Task Concurrent_creations_of_one_name_as_server_and_as_virtual_server_have_exactly_one_winner()
    {
        var attempts = Enumerable.Range(0, 16).Select(async i =>
        {
            using var response = i % 2 == 0
                ? await Send(HttpMethod.Post, "admin/mcps", """{"name":"contended","transport":"stdio","command":"echo"}""")
                : await Send(HttpMethod.Post, "admin/virtual-servers", """{"name":"contended"}""");
            return response.StatusCode;
        });
        var codes = await Task.WhenAll(attempts);

        Assert.Single(codes, c => c == HttpStatusCode.Created);
        Assert.Equal(15, codes.Count(c => c == HttpStatusCode.Conflict));
        Assert.True(await Admin.GetAsync("contended") is null ^ await Admin.GetVirtualServerAsync("contended") is null);
    }

    [Fact]
    public async Task Unknown_servers_are_accepted_with_a_warning_that_goes_once_the_server_is_registered()
    {
        var created = await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "early", Tools = ["later:*"], Prompts = ["elsewhere:p"] });

        Assert.Equal([("later:*", VirtualServerWarnings.UnknownServerCode), ("elsewhere:p", VirtualServerWarnings.UnknownServerCode)],
            created.Warnings.Select(w => (w.Member, w.Code)));
        Assert.Equal(["later:*"], created.UnresolvedTools);
        Assert.Empty(created.Tools);

        await Admin.RegisterAsync(Definitions.Stdio("later"));
        var read = (await Admin.GetVirtualServerAsync("early"))!;
        Assert.Equal(["elsewhere:p"], read.Warnings.Select(w => w.Member));
        Assert.Equal(["later:*"], read.UnresolvedTools); // registered, but it offers no tools (yet)
    }

    [Fact]
    public async Task Get_shows_the_resolved_tools_under_their_exposed_names_and_what_resolves_to_nothing()
    {
        await RegisterTestServerAsync("alpha", new ToolFilter { Deny = ["read_*"] });
        var definition = new VirtualServerDefinition
        {
            Name = "curated",
            Tools = ["alpha:echo", "alpha:a*", "alpha:read_*", "ghost:anything"],
            Overrides = new Dictionary<string, MemberOverride> { ["alpha:echo"] = new() { Name = "say", Description = "Says it back" } },
        };

        var created = await Admin.RegisterVirtualServerAsync(definition);
        var read = (await Admin.GetVirtualServerAsync("curated"))!;

        foreach (var entry in new[] { created, read })
        {
            Assert.Equal([("say", "echo"), ("add", "add"), ("add_tool", "add_tool"), ("ask", "ask")], entry.Tools.Select(t => (t.Name, t.UpstreamName!)));
            Assert.All(entry.Tools, t => Assert.Equal("alpha", t.McpName));
            Assert.Equal("Says it back", entry.Tools[0].Description);
            Assert.Equal("Adds two integers.", entry.Tools[1].Description);
            // read_secret is filtered out by alpha's own toolFilter, so nothing matches alpha:read_*.
            Assert.Equal(["alpha:read_*", "ghost:anything"], entry.UnresolvedTools);
            Assert.Equal([VirtualServerWarnings.UnknownServerCode], entry.Warnings.Select(w => w.Code));
        }

        var listed = await Admin.ListToolsAsync("curated");
        Assert.Equal(["say", "add", "add_tool", "ask"], listed.Select(t => t.Name));
        Assert.Equal(read.Tools.Select(t => t.UpstreamName), listed.Select(t => t.UpstreamName));
        // The full catalog is unchanged by virtual servers.
        Assert.Equal(TestServerTools.Where(t => t != "read_secret").Order(StringComparer.Ordinal), (await Admin.ListToolsAsync()).Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Exposed_name_collisions_keep_the_first_selector_s_tool_and_are_warned_about()
    {
        await RegisterTestServerAsync("first");
        await RegisterTestServerAsync("second");

        var entry = await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "both", Tools = ["second:echo", "first:echo", "first:add"] });

        Assert.Equal([("echo", "second"), ("add", "first")], entry.Tools.Select(t => (t.Name, t.McpName)));
        var warning = Assert.Single(entry.Warnings);
        Assert.Equal((VirtualServerWarnings.NameCollisionCode, "first:echo"), (warning.Code, warning.Member));
    }

    [Fact]
    public async Task The_tools_filter_needs_one_existing_virtual_server()
    {
        using (var absent = await Host.Http.SendAsync(Host.AdminRequest(HttpMethod.Get, "admin/tools?virtual=ghost")))
            Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        foreach (var query in new[] { "virtual=", "virtual=a&virtual=b" })
        {
            using var response = await Host.Http.SendAsync(Host.AdminRequest(HttpMethod.Get, $"admin/tools?{query}"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(body.RootElement.GetProperty("errors").TryGetProperty("virtual", out _));
        }
    }

    [Fact]
    public async Task Tokens_never_come_back_but_survive_a_round_trip_and_a_mask_is_never_stored()
    {
        await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "secretive", AuthTokens = ["virtual-secret-1", "virtual-secret-2"] });

        foreach (var path in new[] { "admin/virtual-servers", "admin/virtual-servers/secretive" })
        {
            using var response = await Host.Http.SendAsync(Host.AdminRequest(HttpMethod.Get, path));
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("virtual-secret", text);
            Assert.Contains("\"authTokens\":[\"***\",\"***\"]", text);
        }

        var read = (await Admin.GetVirtualServerAsync("secretive"))!;
        await Admin.UpdateVirtualServerAsync("secretive", read.Definition with { Description = "edited" });
        Assert.Equal(["virtual-secret-1", "virtual-secret-2"], (await StoredAsync("secretive")).AuthTokens);

        var ex = await Assert.ThrowsAsync<McpProxyClientException>(() => Admin.UpdateVirtualServerAsync("secretive", read.Definition with { AuthTokens = ["***"] }));
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.True(ex.Problem!.Errors.ContainsKey("authTokens"));
        Assert.Equal(["virtual-secret-1", "virtual-secret-2"], (await StoredAsync("secretive")).AuthTokens);
    }

    [Fact]
    public async Task Virtual_server_changes_leave_audit_entries_refused_ones_included()
    {
        await Admin.RegisterVirtualServerAsync(new VirtualServerDefinition { Name = "audited" });
        await Admin.UpdateVirtualServerAsync("audited", new VirtualServerDefinition { Description = "v2" });
        using (var refused = await Host.Http.DeleteAsync("admin/virtual-servers/audited"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await Admin.UnregisterVirtualServerAsync("audited");

        var page = await Eventually.GetAsync(() => Admin.GetAuditAsync(new AuditQuery { Server = "audited" }), p => p.Entries.Count == 4, "four audit entries");

        Assert.Equal(["virtual-servers/delete", "virtual-servers/delete", "virtual-servers/update", "virtual-servers/create"], page.Entries.Select(e => e.Method));
        Assert.Equal(["ok", "refused", "ok", "ok"], page.Entries.Select(e => e.Outcome));
        Assert.All(page.Entries, e => Assert.Equal(AuditRoutes.Admin, e.Route));
        Assert.True(page.Entries[^1].RequestBytes > 0);
    }

    [Fact]
    public async Task Every_route_needs_the_admin_token()
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "admin/virtual-servers"), (HttpMethod.Post, "admin/virtual-servers"), (HttpMethod.Get, "admin/virtual-servers/x"), (HttpMethod.Put, "admin/virtual-servers/x"), (HttpMethod.Delete, "admin/virtual-servers/x") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : new StringContent("""{"name":"x"}""", Encoding.UTF8, "application/json") };
            using var response = await Host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Empty(await Admin.ListVirtualServersAsync());
    }

    protected abstract Task<VirtualServerDefinition> StoredAsync(string name);

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string json) =>
        Host.Http.SendAsync(Host.AdminRequest(method, path, new StringContent(json, Encoding.UTF8, "application/json")));
}

public sealed class LocalHostVirtualServerAdminTests : VirtualServerAdminTests
{
    private GatewayHarness Gateway => (GatewayHarness)Host;

    protected override async Task<IAdminTestHost> StartHostAsync() => await GatewayHarness.StartAsync();

    protected override async Task RegisterTestServerAsync(string name, ToolFilter? filter = null)
    {
        await Admin.RegisterAsync(TestServers.Stdio(name, d => d with { ToolFilter = filter }));
        await Eventually.GetAsync(() => Admin.ListToolsAsync(), tools => tools.Any(t => t.McpName == name), $"{name}'s tools");
    }

    protected override async Task<VirtualServerDefinition> StoredAsync(string name) =>
        (await Gateway.Proxy.Services.GetRequiredService<IVirtualServerStore>().GetVirtualServerAsync(name))!.Definition;
}

public sealed class FunctionsVirtualServerAdminTests : VirtualServerAdminTests
{
    private FunctionsHarness Functions => (FunctionsHarness)Host;

    protected override async Task<IAdminTestHost> StartHostAsync() => await FunctionsHarness.StartAsync();

    /// <summary>Registers the server and reports its tools to the store as a proxy replica connected to it would (after its filter).</summary>
    protected override async Task RegisterTestServerAsync(string name, ToolFilter? filter = null)
    {
        await Admin.RegisterAsync(Definitions.Stdio(name) with { ToolFilter = filter });
        var matcher = new ToolFilterMatcher(filter);
        var reports = Functions.Services.GetRequiredService<IMcpReportStore>();
        var tools = TestServerTools.Where(matcher.Allows)
            .Select(t => new ToolInfo { Name = t, McpName = name, Description = t == "add" ? "Adds two integers." : null })
            .ToList();
        await reports.ReportAsync(new McpInstanceReport(
            new McpRuntimeStatus { Name = name, State = ConnectionState.Connected, Instance = "replica-1", ReportedAt = DateTimeOffset.UtcNow, ToolCount = tools.Count },
            tools));
    }

    protected override async Task<VirtualServerDefinition> StoredAsync(string name) =>
        (await Functions.Services.GetRequiredService<IVirtualServerStore>().GetVirtualServerAsync(name))!.Definition;
}
