using McpServerless.Proxy.Downstream;

namespace McpServerless.Tests.Relay;

public sealed class AggregateNamingTests
{
    [Theory]
    [InlineData("fs__read", "fs", "read")]
    [InlineData("a__b__c", "a__b", "c")] // the longest server name wins
    [InlineData("a__x__y", "a", "x__y")] // a tool name may hold the separator
    [InlineData("a__b", "a", "b")] // a__b is a server, but "a__b" alone names no tool of it
    public void A_name_routes_to_the_longest_matching_server(string exposed, string server, string name)
    {
        Assert.Equal((server, name), AggregateNaming.Route(exposed, ["a", "a__b", "fs"]));
    }

    [Theory]
    [InlineData("fs__")]
    [InlineData("fs_read")]
    [InlineData("other__read")]
    [InlineData("__read")]
    [InlineData("")]
    public void A_name_without_a_server_and_a_tool_routes_nowhere(string exposed)
    {
        Assert.Null(AggregateNaming.Route(exposed, ["fs", "a"]));
    }

    [Fact]
    public void An_entry_shadowed_by_a_longer_server_name_is_not_exposed()
    {
        string[] servers = ["a", "a__b"];
        Assert.False(AggregateNaming.IsExposed("a", "b__c", servers)); // would be a__b__c, which belongs to a__b
        Assert.True(AggregateNaming.IsExposed("a__b", "c", servers));
        Assert.True(AggregateNaming.IsExposed("a", "c", servers));
        Assert.Equal("a__b__c", AggregateNaming.Expose("a__b", "c"));
    }

    [Fact]
    public void Server_names_are_matched_exactly_and_case_sensitively()
    {
        Assert.Null(AggregateNaming.Route("FS__read", ["fs"]));
        Assert.Null(AggregateNaming.Route("fsx__read", ["fs"]));
    }
}
