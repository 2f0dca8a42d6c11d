using System.Net;
using System.Net.Http.Headers;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Security;

public sealed class AdminAccessTests
{
    [Fact]
    public async Task Any_configured_token_is_accepted()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.AdminTokens = ["first", "second"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/mcps");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "second");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_client_outside_the_allow_list_gets_403_even_with_a_token()
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.AdminAllowIPs = ["10.0.0.0/8", "fd00::/8"]);
        using var response = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "admin/mcps"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.0/8")]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.0/8,127.0.0.1/32")]
    public async Task A_client_inside_the_allow_list_passes(string entries)
    {
        await using var gateway = await GatewayHarness.StartAsync(o => o.AdminAllowIPs = [.. entries.Split(',')]);
        using var response = await gateway.Http.SendAsync(gateway.AdminRequest(HttpMethod.Get, "admin/mcps"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ipv6_clients_are_matched_against_ipv6_ranges()
    {
        await using var allowed = await GatewayHarness.StartAsync(o => { o.Host = "::1"; o.AdminAllowIPs = ["::1/128"]; });
        Assert.Equal("[::1]", allowed.Http.BaseAddress!.Host);
        using (var response = await allowed.Http.SendAsync(allowed.AdminRequest(HttpMethod.Get, "admin/mcps")))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await using var denied = await GatewayHarness.StartAsync(o => { o.Host = "::1"; o.AdminAllowIPs = ["127.0.0.0/8", "fd00::/8"]; });
        using (var response = await denied.Http.SendAsync(denied.AdminRequest(HttpMethod.Get, "admin/mcps")))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task An_untrusted_peer_cannot_spoof_x_forwarded_for()
    {
        // The allow-list admits only 10.1.2.3; the loopback peer claims to be it but is not a trusted proxy.
        await using var gateway = await GatewayHarness.StartAsync(o => o.AdminAllowIPs = ["10.1.2.3"]);
        using var request = gateway.AdminRequest(HttpMethod.Get, "admin/mcps");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_trusted_proxy_passes_the_client_address_on()
    {
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.AdminAllowIPs = ["10.1.2.3"];
            o.TrustedProxies = ["127.0.0.1", "::1"];
        });
        using var request = gateway.AdminRequest(HttpMethod.Get, "admin/mcps");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_a_client_written_left_entry_is_ignored()
    {
        // The client sent "X-Forwarded-For: 10.1.2.3"; the proxy appended the real client, 203.0.113.7.
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.AdminAllowIPs = ["10.1.2.3"];
            o.TrustedProxies = ["127.0.0.1", "::1"];
        });
        using var request = gateway.AdminRequest(HttpMethod.Get, "admin/mcps");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3, 203.0.113.7");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Without_admin_tokens_only_loopback_clients_get_in()
    {
        await using var gateway = await GatewayHarness.StartAsync(o =>
        {
            o.AdminTokens = [];
            o.TrustedProxies = ["127.0.0.1", "::1"];
        });

        using (var local = await gateway.Http.GetAsync("admin/mcps"))
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);

        using var forwarded = new HttpRequestMessage(HttpMethod.Get, "admin/mcps");
        forwarded.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var remote = await gateway.Http.SendAsync(forwarded);
        Assert.Equal(HttpStatusCode.Forbidden, remote.StatusCode);
    }
}
