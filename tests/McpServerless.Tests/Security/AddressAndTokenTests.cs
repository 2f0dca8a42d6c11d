using System.Net;
using McpServerless.Configuration;
using McpServerless.Model;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Security;

public sealed class AddressAndTokenTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.168.1.0/24", "192.168.1.77", true)]
    [InlineData("192.168.1.0/24", "192.168.2.1", false)]
    [InlineData("10.0.0.1", "10.0.0.1", true)]
    [InlineData("10.0.0.1", "10.0.0.2", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.1.1", true)]
    [InlineData("2001:db8::/32", "2001:db8:1::5", true)]
    [InlineData("2001:db8::/32", "2001:db9::5", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "127.0.0.1", false)]
    [InlineData("::ffff:127.0.0.0/104", "127.0.0.1", true)]
    [InlineData("::ffff:127.0.0.0/104", "::ffff:127.9.9.9", true)]
    [InlineData("::ffff:127.0.0.0/104", "128.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1", true)]
    [InlineData("::ffff:0:0/96", "192.0.2.1", true)]
    public void Allow_lists_match_addresses_and_ranges(string entry, string address, bool expected)
    {
        var list = IpAllowList.Parse([entry]);
        Assert.Equal(expected, list.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-ip")]
    [InlineData("10.0.0/8x")]
    [InlineData("")]
    [InlineData("012.0.0.01")]
    [InlineData("167772161")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("10.1")]
    [InlineData("10.0.0.1.")]
    [InlineData("010.0.0.0/8")]
    [InlineData("10.0.0.0/08")]
    [InlineData("fe80::1%eth0")]
    public void Bad_entries_are_rejected(string entry) =>
        Assert.Throws<FormatException>(() => IpAllowList.Parse([entry]));

    [Theory]
    [InlineData("127.0.0.1", null, "127.0.0.1")]
    [InlineData("203.0.113.9", "10.9.9.9", "203.0.113.9")] // untrusted peer: header ignored
    [InlineData("10.0.0.1", "198.51.100.4", "198.51.100.4")]
    [InlineData("10.0.0.1", "1.2.3.4, 198.51.100.4", "198.51.100.4")] // right-most untrusted wins
    [InlineData("10.0.0.1", "198.51.100.4, 10.0.0.2", "198.51.100.4")] // trusted hops are skipped
    [InlineData("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3")] // all trusted: left-most
    [InlineData("10.0.0.1", "garbage", null)]
    [InlineData("10.0.0.1", "012.0.0.01", null)] // octal-looking, decimal-with-zeros, integer and hex forms are not addresses
    [InlineData("10.0.0.1", "167772161", null)]
    [InlineData("10.0.0.1", "0x0a.0.0.1", null)]
    [InlineData("10.0.0.1", "2001:db8::7", "2001:db8::7")]
    public void Client_address_comes_from_trusted_proxies_only(string peer, string? forwardedFor, string? expected)
    {
        var resolver = new ClientIpResolver(IpAllowList.Parse(["10.0.0.0/24"]));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null) context.Request.Headers[ClientIpResolver.ForwardedForHeader] = forwardedFor;

        Assert.Equal(expected, resolver.Resolve(context)?.ToString());
    }

    [Fact]
    public void Tokens_match_exactly_and_nothing_else()
    {
        var tokens = TokenSet.Create(["alpha-123", "beta-456"]);
        Assert.True(tokens.Matches("alpha-123"));
        Assert.True(tokens.Matches("beta-456"));
        Assert.False(tokens.Matches("alpha-12"));
        Assert.False(tokens.Matches("alpha-1234"));
        Assert.False(tokens.Matches("ALPHA-123"));
        Assert.False(tokens.Matches(""));
        Assert.False(TokenSet.Empty.Matches("alpha-123"));
    }

    [Fact]
    public async Task Mcp_rules_combine_allow_list_per_server_tokens_and_global_tokens()
    {
        var policy = Policy(new McpProxyOptions { GlobalAuthTokens = ["global"] });
        var rule = McpAccessRule.From(new McpDefinition { Name = "s", AllowedIps = ["10.0.0.0/8"], AuthTokens = ["own"] });

        Assert.Equal(AccessOutcome.Forbidden, (await policy.AuthorizeMcpAsync(Context("192.0.2.1", "own"), rule)).Outcome);
        Assert.Equal(AccessOutcome.Unauthorized, (await policy.AuthorizeMcpAsync(Context("10.1.1.1", null), rule)).Outcome);
        Assert.Equal(AccessOutcome.Unauthorized, (await policy.AuthorizeMcpAsync(Context("10.1.1.1", "other"), rule)).Outcome);
        Assert.True((await policy.AuthorizeMcpAsync(Context("10.1.1.1", "own"), rule)).IsAllowed);
        Assert.True((await policy.AuthorizeMcpAsync(Context("10.1.1.1", "global"), rule)).IsAllowed);

        var open = Policy(new McpProxyOptions());
        Assert.True((await open.AuthorizeMcpAsync(Context("192.0.2.1", null), McpAccessRule.Open)).IsAllowed);
        var locked = McpAccessRule.From(new McpDefinition { Name = "s", RequireAuth = true });
        Assert.Equal(AccessOutcome.Unauthorized, (await open.AuthorizeMcpAsync(Context("192.0.2.1", "anything"), locked)).Outcome);
    }

    private static readonly IOptionsMonitor<JwtBearerOptions> JwtOptions =
        new ServiceCollection().AddOptions().BuildServiceProvider().GetRequiredService<IOptionsMonitor<JwtBearerOptions>>();

    private static AccessPolicy Policy(McpProxyOptions settings)
    {
        var options = Options.Create(settings);
        var frontDoor = new FrontDoorPolicy(options);
        return new(options, frontDoor, new OAuthAuthenticator(options, JwtOptions, new ProtectedResources(options, frontDoor), TimeProvider.System));
    }

    private static DefaultHttpContext Context(string peer, string? token)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (token is not null) context.Request.Headers.Authorization = $"Bearer {token}";
        return context;
    }
}
