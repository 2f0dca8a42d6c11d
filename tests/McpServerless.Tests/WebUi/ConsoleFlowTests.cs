using System.Text.RegularExpressions;
using McpServerless.Model;
using McpServerless.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace McpServerless.Tests.WebUi;

/// <summary>
/// The console in a real browser, on each host that serves it: the one-process gateway
/// (<see cref="GatewayConsoleTests"/>) and the Functions triggers with a proxy process beside them
/// (<see cref="FunctionsConsoleTests"/>). Each flow ends with a screenshot under artifacts/screenshots.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class ConsoleFlowTests(BrowserFixture browser) : IAsyncLifetime
{
    private ConsoleHost _host = null!;

    protected BrowserFixture Browser { get; } = browser;

    protected abstract Task<ConsoleHost> StartHostAsync();

    public async Task InitializeAsync() => _host = await StartHostAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<ConsolePage> OpenAsync() => ConsolePage.OpenAsync(Browser, _host);

    [Fact]
    public async Task Sign_in_refuses_a_wrong_token_and_keeps_the_right_one_in_session_storage_only()
    {
        await using var console = await OpenAsync();
        var page = console.Page;

        await page.GetByLabel("Admin token").FillAsync("not-the-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The gateway did not accept this token.");
        await console.ScreenshotAsync("sign-in");

        await console.SignInAsync();
        Assert.DoesNotContain(IAdminTestHost.AdminToken, page.Url, StringComparison.Ordinal);
        Assert.Equal(IAdminTestHost.AdminToken, await page.EvaluateAsync<string>("sessionStorage.getItem('mcpgw.admin-token')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("Admin token")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('mcpgw.admin-token')"));
        await console.FinishAsync("signed-out");
    }

    [Fact]
    public async Task Add_a_stdio_server_watch_it_connect_open_its_tools_and_call_echo()
    {
        // A server nobody listens for shows its state and why beside the one that connects.
        await _host.Admin.Admin.RegisterAsync(Definitions.Http("offline", $"http://127.0.0.1:{TestTools.FreeTcpPort()}/mcp") with { AutoReconnect = true });
        await using var console = await OpenAsync();
        var page = console.Page;
        await console.SignInAsync();
        var offline = console.ServerRow("offline");
        await Expect(offline.Locator(".pill")).ToHaveTextAsync(new Regex("^(error|connecting)$"));
        await Expect(offline.Locator(".error-text")).Not.ToBeEmptyAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "+ Add server" }).ClickAsync();
        var everything = TestServers.EverythingStdio("everything");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(everything.Name);
        await page.GetByLabel("Description").FillAsync("npm's reference MCP server");
        await page.GetByLabel("Command").FillAsync(everything.Command!);
        await page.GetByLabel("Arguments").FillAsync(string.Join('\n', everything.Args!));
        await page.GetByLabel("Timeout").FillAsync("20s");
        await page.GetByLabel("Hide", new() { Exact = true }).FillAsync("toggle-*");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();

        var row = console.ServerRow("everything");
        await Expect(row.Locator(".pill")).ToHaveTextAsync("connected", new() { Timeout = 45_000 });
        await Expect(row.Locator("td").Nth(2)).Not.ToHaveTextAsync("0");
        var stored = await _host.Admin.GetStoredAsync("everything");
        Assert.Equal(everything.Args, stored!.Args);
        Assert.True(stored.AutoReconnect);
        Assert.Equal(["toggle-*"], stored.ToolFilter!.Deny);
        await console.ScreenshotAsync("servers");

        await row.GetByRole(AriaRole.Link, new() { Name = "Tools of everything" }).ClickAsync();
        await Expect(page.Locator(".filter-box")).ToContainTextAsync("hide toggle-*");
        await Expect(page.Locator(".tool-row[data-tool=\"echo\"]")).ToBeVisibleAsync();
        await Expect(page.Locator(".tool-row[data-tool^=\"toggle-\"]")).ToHaveCountAsync(0);
        await page.Locator(".server-link", new() { HasText = "All servers" }).ClickAsync();
        await Expect(page.Locator(".tool-row[data-tool=\"echo\"]")).ToContainTextAsync("everything__echo");
        await page.Locator(".server-link", new() { HasText = "everything" }).ClickAsync();
        await page.Locator(".tool-row[data-tool=\"echo\"]").ClickAsync();
        var panel = page.Locator(".try-panel");
        await Expect(panel.GetByRole(AriaRole.Heading, new() { Name = "echo" })).ToBeVisibleAsync();

        if (!_host.TriesTools)
        {
            // No proxy endpoint shares the admin app's origin: the panel says where to try tools instead of failing.
            await Expect(panel.Locator(".banner")).ToContainTextAsync("needs the proxy endpoints");
            await Expect(panel.GetByRole(AriaRole.Button, new() { Name = "Run" })).ToHaveCountAsync(0);
            await console.FinishAsync("tools");
            return;
        }

        await panel.GetByLabel("message").FillAsync("hello from the console");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Expect(panel.Locator(".result pre")).ToContainTextAsync("hello from the console");
        await console.ScreenshotAsync("try-echo");

        // Progress notifications arrive while the call runs, then the answer.
        await page.Locator(".tool-row[data-tool=\"trigger-long-running-operation\"]").ClickAsync();
        await panel.GetByLabel("duration").FillAsync("3");
        await panel.GetByLabel("steps").FillAsync("3");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Expect(panel.Locator(".progress-text")).ToContainTextAsync("/ 3");
        await Expect(panel.Locator(".result pre")).ToContainTextAsync("completed", new() { Timeout = 20_000 });

        // A long call can be cancelled from the panel; the panel frees up at once.
        await panel.GetByLabel("duration").FillAsync("60");
        await panel.GetByLabel("steps").FillAsync("60");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Expect(panel.Locator(".progress-text")).ToContainTextAsync("/ 60");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(panel.Locator(".result.is-error")).ToContainTextAsync("Cancelled");
        await Expect(panel.GetByRole(AriaRole.Button, new() { Name = "Run" })).ToBeEnabledAsync();

        // Images come back as data: URLs the CSP admits, decoded by the browser.
        await page.Locator(".tool-row[data-tool=\"get-tiny-image\"]").ClickAsync();
        await panel.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        var image = panel.Locator(".result img");
        await Expect(image).ToBeVisibleAsync();
        Assert.True(await image.EvaluateAsync<int>("img => img.naturalWidth") > 0);

        await page.GetByRole(AriaRole.Link, new() { Name = "Traffic" }).ClickAsync();
        var charts = page.Locator(".server-chart[data-server=\"everything\"]");
        await Expect(charts.Locator("svg.spark")).ToHaveCountAsync(3);
        await Expect(page.Locator(".stat", new() { HasText = "Upstream calls" }).Locator("strong")).Not.ToHaveTextAsync("0", new() { Timeout = 20_000 });
        await console.FinishAsync("traffic");
    }

    [Fact]
    public async Task An_invalid_definition_shows_the_gateways_errors_beside_the_fields()
    {
        await using var console = await OpenAsync();
        var page = console.Page;
        await console.SignInAsync();
        await console.GoAsync("servers/new");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("bad name!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add server" }).ClickAsync();

        await Expect(console.Field("name").Locator(".field-error")).ToContainTextAsync("must start with a letter or digit");
        await Expect(console.Field("command").Locator(".field-error")).ToContainTextAsync("command is required");
        await Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("Nothing was saved: 2 fields need attention.");
        Assert.Empty(await _host.Admin.Admin.ListAsync());
        await console.FinishAsync("invalid");
    }

    [Fact]
    public async Task Saving_over_someone_elses_change_explains_the_conflict_and_reloads_without_revealing_secrets()
    {
        await _host.Admin.Admin.RegisterAsync(Definitions.Stdio("files") with { Description = "first", Env = new Dictionary<string, string> { ["API_KEY"] = "s3cret-value" } });
        await using var console = await OpenAsync();
        var page = console.Page;
        await console.SignInAsync();
        await console.GoAsync("servers/files/edit");

        var description = page.GetByLabel("Description");
        await Expect(description).ToHaveValueAsync("first");
        await Expect(console.Field("env").GetByLabel("Value of variable")).ToHaveValueAsync("***");
        Assert.DoesNotContain("s3cret-value", await page.ContentAsync(), StringComparison.Ordinal);

        // Someone else saves while the form is open.
        var current = (await _host.Admin.Admin.GetAsync("files"))!;
        await _host.Admin.Admin.UpdateAsync("files", current.Definition with { Description = "changed elsewhere" });

        await description.FillAsync("mine");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        var conflict = page.Locator(".banner.conflict");
        await Expect(conflict).ToContainTextAsync("Someone else changed this server");
        await console.ScreenshotAsync("conflict");
        Assert.Equal("changed elsewhere", (await _host.Admin.GetStoredAsync("files"))!.Description);

        await conflict.GetByRole(AriaRole.Button, new() { Name = "Reload latest" }).ClickAsync();
        await Expect(description).ToHaveValueAsync("changed elsewhere");
        await description.FillAsync("mine, after reading theirs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers", Exact = true })).ToBeVisibleAsync();

        var stored = (await _host.Admin.GetStoredAsync("files"))!;
        Assert.Equal("mine, after reading theirs", stored.Description);
        Assert.Equal("s3cret-value", stored.Env!["API_KEY"]); // *** went back and kept the stored value
        await console.FinishAsync("saved-after-conflict");
    }

    [Fact]
    public async Task Saving_in_the_console_keeps_the_fields_it_does_not_show()
    {
        // Scopes and the upstream credential are set through the admin API; an edit in the console must not drop them,
        // and the client secret, which the console only ever sees masked, must stay the stored one.
        await _host.Admin.Admin.RegisterAsync(Definitions.Http("remote", "https://mcp.example.com/mcp") with
        {
            AutoReconnect = false,
            RequiredScopes = ["docs.read"],
            UpstreamAuth = new UpstreamAuth { Kind = UpstreamAuthKind.ClientCredentials, TokenUrl = "https://login.example.com/token", ClientId = "gw", ClientSecret = "cc-s3cret-value" },
        });
        await using var console = await OpenAsync();
        var page = console.Page;
        await console.SignInAsync();
        await console.GoAsync("servers/remote/edit");
        Assert.DoesNotContain("cc-s3cret-value", await page.ContentAsync(), StringComparison.Ordinal);

        await page.GetByLabel("Description").FillAsync("edited in the console");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers", Exact = true })).ToBeVisibleAsync();

        var stored = (await _host.Admin.GetStoredAsync("remote"))!;
        Assert.Equal("edited in the console", stored.Description);
        Assert.Equal(["docs.read"], stored.RequiredScopes);
        Assert.Equal("cc-s3cret-value", stored.UpstreamAuth!.ClientSecret);
    }

    [Fact]
    public async Task Delete_asks_first_then_removes_the_server()
    {
        await _host.Admin.Admin.RegisterAsync(Definitions.Stdio("doomed"));
        await using var console = await OpenAsync();
        var page = console.Page;
        await console.SignInAsync();

        var row = console.ServerRow("doomed");
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Delete doomed?");
        await console.ScreenshotAsync("delete-confirm");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete server" }).ClickAsync();

        await Expect(row).ToHaveCountAsync(0);
        Assert.Null(await _host.Admin.Admin.GetAsync("doomed"));
        await console.FinishAsync("deleted");
    }
}

public sealed class GatewayConsoleTests(BrowserFixture browser) : ConsoleFlowTests(browser)
{
    protected override Task<ConsoleHost> StartHostAsync() => ConsoleHost.GatewayAsync();

    [Fact]
    public async Task A_gateway_without_admin_tokens_lets_its_own_machine_in_with_an_empty_token()
    {
        await using var host = await ConsoleHost.GatewayAsync(o => o.AdminTokens = []);
        await using var console = await ConsolePage.OpenAsync(Browser, host);
        await console.SignInAsync(token: "");
        await Expect(console.Page.GetByRole(AriaRole.Heading, new() { Name = "No servers yet" })).ToBeVisibleAsync();
        await console.FinishAsync("tokenless");
    }
}

public sealed class FunctionsConsoleTests(BrowserFixture browser) : ConsoleFlowTests(browser)
{
    protected override Task<ConsoleHost> StartHostAsync() => ConsoleHost.FunctionsAsync();
}
