using System.Text.Json;
using McpServerless.Model;
using McpServerless.Serialization;
using McpServerless.Validation;

namespace McpServerless.Tests.VirtualServers;

public sealed class VirtualServerValidatorTests
{
    /// <summary>The shape issue 17 promises clients.</summary>
    private const string Example = """
        {"name":"team-a","description":"What team A may use","tools":["everything:echo","fs:read_*"],
         "prompts":["everything:simple_prompt"],"resources":["everything:test://static/resource/*"],
         "overrides":{"everything:echo":{"name":"say","description":"Says it back"}},
         "authTokens":["team-a-token"],"allowedIPs":["10.0.0.0/8"],"requireAuth":true}
        """;

    [Fact]
    public void The_documented_shape_reads_into_every_field_and_is_valid()
    {
        var definition = JsonSerializer.Deserialize(Example, GatewayJson.Default.VirtualServerDefinition)!;

        Assert.Equal("team-a", definition.Name);
        Assert.Equal(["everything:echo", "fs:read_*"], definition.Tools);
        Assert.Equal(["everything:simple_prompt"], definition.Prompts);
        Assert.Equal(["everything:test://static/resource/*"], definition.Resources);
        Assert.Equal(new MemberOverride { Name = "say", Description = "Says it back" }, definition.Overrides!["everything:echo"]);
        Assert.Equal(["team-a-token"], definition.AuthTokens);
        Assert.Equal(["10.0.0.0/8"], definition.AllowedIps);
        Assert.True(definition.RequireAuth);
        Assert.Empty(VirtualServerValidator.Validate(definition));

        // And it writes back under the same names.
        var written = JsonSerializer.Serialize(definition, GatewayJson.Default.VirtualServerDefinition);
        Assert.Contains("\"allowedIPs\":[\"10.0.0.0/8\"]", written);
        Assert.Contains("\"overrides\":{\"everything:echo\":{\"name\":\"say\",\"description\":\"Says it back\"}}", written);
    }

    [Fact]
    public void Only_a_name_is_required_and_selectors_may_name_servers_not_registered_yet()
    {
        Assert.Empty(VirtualServerValidator.Validate(new VirtualServerDefinition { Name = "empty" }));
        Assert.Empty(VirtualServerValidator.Validate(new VirtualServerDefinition { Name = "later", Tools = ["not-yet:*"] }));
    }

    [Theory]
    [InlineData("""{"tools":["a:b"]}""", "name")]
    [InlineData("""{"name":"admin"}""", "name")]
    [InlineData("""{"name":"bad name"}""", "name")]
    [InlineData("""{"name":"v","tools":["no-colon"]}""", "tools")]
    [InlineData("""{"name":"v","tools":[":tool"]}""", "tools")]
    [InlineData("""{"name":"v","tools":["server:"]}""", "tools")]
    [InlineData("""{"name":"v","tools":["bad server:tool"]}""", "tools")]
    [InlineData("""{"name":"v","tools":["v:tool"]}""", "tools")] // itself
    [InlineData("""{"name":"v","prompts":[""]}""", "prompts")]
    [InlineData("""{"name":"v","resources":["mcp"]}""", "resources")]
    [InlineData("""{"name":"v","tools":["a:*"],"overrides":{"a:x*":{"name":"y"}}}""", "overrides")] // a glob
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"a:other":{"name":"y"}}}""", "overrides")] // not selected
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"b:x":{"name":"y"}}}""", "overrides")]
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"a:x":{}}}""", "overrides")] // sets nothing
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"a:x":null}}""", "overrides")]
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"a:x":{"name":"has space"}}}""", "overrides")]
    [InlineData("""{"name":"v","tools":["a:x"],"overrides":{"a:x":{"name":""}}}""", "overrides")]
    [InlineData("""{"name":"v","authTokens":["***"]}""", "authTokens")]
    [InlineData("""{"name":"v","authTokens":["with space"]}""", "authTokens")]
    [InlineData("""{"name":"v","allowedIPs":["10.0.0.0/99"]}""", "allowedIPs")]
    public void Each_invalid_field_is_named(string json, string field)
    {
        var definition = JsonSerializer.Deserialize(json, GatewayJson.Default.VirtualServerDefinition)!;

        var errors = VirtualServerValidator.Validate(definition);

        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_and_entries_are_quoted_cut_short()
    {
        var longEntry = new string('x', 500);
        var definition = new VirtualServerDefinition
        {
            Name = "",
            Description = new string('d', 2000),
            Tools = ["ok:tool", longEntry],
            Prompts = ["p"],
            Overrides = new Dictionary<string, MemberOverride> { ["ok:tool"] = new() { Name = "fine" }, ["ok:missing"] = new() { Description = "d" } },
            AllowedIps = ["nowhere"],
        };

        var errors = VirtualServerValidator.Validate(definition);

        Assert.Equal(["allowedIPs", "description", "name", "overrides", "prompts", "tools"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(longEntry, errors["tools"].Single());
        Assert.Contains("'ok:missing'", Assert.Single(errors["overrides"]));
    }

    [Fact]
    public void A_prompt_or_resource_selector_makes_its_member_overridable_too()
    {
        var definition = new VirtualServerDefinition
        {
            Name = "v",
            Prompts = ["s:greet*"],
            Resources = ["s:file:///docs/*"],
            Overrides = new Dictionary<string, MemberOverride>
            {
                ["s:greeting"] = new() { Name = "hello" },
                ["s:file:///docs/a.md"] = new() { Description = "The A document" },
            },
        };

        Assert.Empty(VirtualServerValidator.Validate(definition));
    }
}
