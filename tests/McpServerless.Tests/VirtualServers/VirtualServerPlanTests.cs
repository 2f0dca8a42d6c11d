using McpServerless.Model;
using McpServerless.VirtualServers;

namespace McpServerless.Tests.VirtualServers;

public sealed class VirtualServerPlanTests
{
    // What each server offers now (after its own tool filter); a server absent here is not registered.
    private readonly Dictionary<string, string[]> _tools = new(StringComparer.Ordinal)
    {
        ["everything"] = ["echo", "add", "longRunningOperation", "printEnv"],
        ["fs"] = ["write_file", "read_text", "read_media", "list_dir"],
        ["test"] = ["echo", "add"],
        ["down"] = [], // registered, not connected
    };

    [Fact]
    public void Selected_tools_are_exposed_in_the_order_written_globs_in_name_order_with_overrides_applied()
    {
        var plan = Plan(tools: ["fs:read_*", "everything:echo", "test:add"], overrides: new() { ["everything:echo"] = new() { Name = "say", Description = "Says it back" } });

        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);

        Assert.Equal(
            [
                new VirtualMember("read_media", "fs", "read_media", null),
                new VirtualMember("read_text", "fs", "read_text", null),
                new VirtualMember("say", "everything", "echo", "Says it back"),
                new VirtualMember("add", "test", "add", null),
            ],
            resolved.Members);
        Assert.Empty(resolved.Unresolved);
        Assert.Empty(resolved.Warnings);
        Assert.True(resolved.TryGet("say", out var say));
        Assert.Equal(("everything", "echo"), (say.Server, say.UpstreamName));
        Assert.False(resolved.TryGet("echo", out _)); // only under its new name
        Assert.False(resolved.TryGet("write_file", out _)); // not selected
    }

    [Fact]
    public void A_tool_its_server_filters_out_is_absent_from_the_list_it_gets_so_its_selector_resolves_to_nothing()
    {
        // The relay passes each server's list after its own toolFilter: "printEnv" denied there is simply not in it.
        _tools["everything"] = ["echo", "add"];
        var plan = Plan(tools: ["everything:printEnv", "everything:print*", "everything:echo"]);

        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);

        Assert.Equal(["echo"], resolved.Members.Select(m => m.Name));
        Assert.Equal(["everything:printEnv", "everything:print*"], resolved.Unresolved);
    }

    [Fact]
    public void Selectors_of_unknown_or_unconnected_servers_resolve_to_nothing_and_only_unknown_ones_are_warned_about()
    {
        var plan = Plan(tools: ["ghost:*", "down:*", "everything:add"], prompts: ["ghost:greet", "phantom:p"]);

        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);
        var unknown = plan.UnknownServers(_tools.ContainsKey);

        Assert.Equal(["add"], resolved.Members.Select(m => m.Name));
        Assert.Equal(["ghost:*", "down:*"], resolved.Unresolved);
        Assert.Equal(["ghost:*", "phantom:p"], unknown.Select(w => w.Member)); // one per server, first selector naming it
        Assert.All(unknown, w => Assert.Equal(VirtualServerWarnings.UnknownServerCode, w.Code));
        Assert.Contains("'ghost'", unknown[0].Message);
    }

    [Fact]
    public void On_an_exposed_name_collision_the_first_selector_wins_whatever_order_the_servers_list_in()
    {
        var plan = Plan(tools: ["test:*", "everything:echo", "everything:add"]);
        var reversed = _tools.ToDictionary(p => p.Key, p => p.Value.Reverse().ToArray(), StringComparer.Ordinal);

        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);
        var again = plan.Resolve(MemberKind.Tool, s => reversed.GetValueOrDefault(s));

        Assert.Equal([("add", "test"), ("echo", "test")], resolved.Members.Select(m => (m.Name, m.Server)));
        Assert.Equal(resolved.Members, again.Members);
        Assert.Equal(["everything:echo", "everything:add"], resolved.Warnings.Select(w => w.Member));
        Assert.All(resolved.Warnings, w => Assert.Equal(VirtualServerWarnings.NameCollisionCode, w.Code));
        Assert.Contains("'test:echo'", resolved.Warnings[0].Message);
        Assert.True(resolved.TryGet("echo", out var echo));
        Assert.Equal("test", echo.Server);
    }

    [Fact]
    public void A_rename_resolves_a_collision_and_a_rename_onto_a_taken_name_collides()
    {
        var renamed = Plan(tools: ["test:echo", "everything:echo"], overrides: new() { ["everything:echo"] = new() { Name = "everything_echo" } });
        Assert.Equal(["echo", "everything_echo"], renamed.Resolve(MemberKind.Tool, NamesOf).Members.Select(m => m.Name));
        Assert.Empty(renamed.Resolve(MemberKind.Tool, NamesOf).Warnings);

        var clash = Plan(tools: ["fs:list_dir", "test:add"], overrides: new() { ["test:add"] = new() { Name = "list_dir" } });
        var resolved = clash.Resolve(MemberKind.Tool, NamesOf);
        Assert.Equal([("list_dir", "fs")], resolved.Members.Select(m => (m.Name, m.Server)));
        Assert.Equal("test:add", Assert.Single(resolved.Warnings).Member);
    }

    [Fact]
    public void A_tool_taken_by_two_selectors_is_exposed_once_without_a_warning()
    {
        var plan = Plan(tools: ["fs:read_text", "fs:read_*", "fs:*"]);

        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);

        Assert.Equal(["read_text", "read_media", "list_dir", "write_file"], resolved.Members.Select(m => m.Name));
        Assert.Empty(resolved.Warnings);
        Assert.Empty(resolved.Unresolved);
    }

    [Fact]
    public void Prompts_resolve_like_tools_and_each_kind_only_from_its_own_selectors()
    {
        var prompts = new Dictionary<string, string[]> { ["everything"] = ["simple_prompt", "complex_prompt"], ["fs"] = [] };
        var plan = Plan(tools: ["everything:echo"], prompts: ["everything:*_prompt"], overrides: new() { ["everything:simple_prompt"] = new() { Name = "simple" } });

        var resolved = plan.Resolve(MemberKind.Prompt, s => prompts.GetValueOrDefault(s));

        Assert.Equal([("complex_prompt", "complex_prompt"), ("simple", "simple_prompt")], resolved.Members.Select(m => (m.Name, m.UpstreamName)));
        Assert.Same(VirtualMembers.Empty, plan.Resolve(MemberKind.Resource, s => throw new InvalidOperationException("no resource selector, nothing to ask")));
    }

    [Fact]
    public void Resources_keep_their_uris_route_by_selector_and_collide_across_servers()
    {
        var resources = new Dictionary<string, string[]>
        {
            ["everything"] = ["test://static/resource/1", "test://static/resource/2", "test://other/3"],
            ["fs"] = ["file:///docs/a.md", "test://static/resource/1"],
        };
        var plan = Plan(
            resources: ["everything:test://static/resource/*", "fs:file:///docs/*", "fs:test://static/*"],
            overrides: new()
            {
                ["everything:test://static/resource/2"] = new() { Name = "renamed", Description = "The second" },
            });

        var resolved = plan.Resolve(MemberKind.Resource, s => resources.GetValueOrDefault(s));

        Assert.Equal(
            [
                new VirtualMember("test://static/resource/1", "everything", "test://static/resource/1", null),
                new VirtualMember("test://static/resource/2", "everything", "test://static/resource/2", "The second"),
                new VirtualMember("file:///docs/a.md", "fs", "file:///docs/a.md", null),
            ],
            resolved.Members);
        Assert.Equal(
            [VirtualServerWarnings.ResourceRenameIgnoredCode, VirtualServerWarnings.NameCollisionCode],
            resolved.Warnings.Select(w => w.Code));
        // A templated URI no list names still routes by the selectors, first match first.
        Assert.Equal("everything", plan.RouteResource("test://static/resource/99"));
        Assert.Equal("fs", plan.RouteResource("file:///docs/deep/b.md"));
        Assert.Null(plan.RouteResource("test://other/3"));
    }

    [Fact]
    public void The_plan_says_which_servers_and_kinds_a_change_can_matter_to()
    {
        var plan = Plan(tools: ["fs:*", "test:add"], prompts: ["everything:p"]);

        Assert.Equal(["everything", "fs", "test"], plan.Servers.Order(StringComparer.Ordinal));
        Assert.True(plan.Selects(MemberKind.Tool, "fs"));
        Assert.False(plan.Selects(MemberKind.Tool, "everything"));
        Assert.True(plan.Selects(MemberKind.Prompt, "everything"));
        Assert.False(plan.Selects(MemberKind.Resource, "fs"));
        Assert.Equal(["fs:*", "test:add"], plan.SelectorsOf(MemberKind.Tool).Select(s => s.ToString()));
    }

    [Fact]
    public void The_access_rule_is_the_virtual_server_s_own()
    {
        var plan = VirtualServerPlan.Create(new VirtualServerDefinition { Name = "v", AuthTokens = ["t0ken"], AllowedIps = ["10.0.0.0/8"], RequireAuth = true });

        Assert.True(plan.AccessRule.RequireAuth);
        Assert.True(plan.AccessRule.Tokens.Matches("t0ken"));
        Assert.True(plan.AccessRule.AllowedIps.Contains(System.Net.IPAddress.Parse("10.1.2.3")));
        Assert.False(plan.AccessRule.AllowedIps.Contains(System.Net.IPAddress.Loopback));
    }

    private IEnumerable<string>? NamesOf(string server) => _tools.GetValueOrDefault(server);

    private static VirtualServerPlan Plan(string[]? tools = null, string[]? prompts = null, string[]? resources = null, Dictionary<string, MemberOverride>? overrides = null) =>
        VirtualServerPlan.Create(new VirtualServerDefinition { Name = "v", Tools = tools, Prompts = prompts, Resources = resources, Overrides = overrides });
}
