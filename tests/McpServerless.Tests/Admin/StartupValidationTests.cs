using McpServerless.Configuration;
using McpServerless.Proxy;
using Microsoft.Extensions.Options;

namespace McpServerless.Tests.Admin;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Host", "example.com")]
    [InlineData("Port", "70000")]
    [InlineData("AdminAllowIPs", "10.0.0.0/40")]
    [InlineData("TrustedProxies", "proxy.local")]
    [InlineData("BaseUrl", "ftp://x")]
    public async Task Bad_settings_stop_the_start_with_a_message_naming_them(string setting, string value)
    {
        var options = new McpProxyOptions { Port = 0 };
        switch (setting)
        {
            case "Host": options.Host = value; break;
            case "Port": options.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "AdminAllowIPs": options.AdminAllowIPs = [value]; break;
            case "TrustedProxies": options.TrustedProxies = [value]; break;
            case "BaseUrl": options.BaseUrl = value; break;
        }
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var proxy = McpProxy.Create(options);
            await proxy.StartAsync();
        });
        Assert.Contains($"McpProxy:{setting}", ex.Message);
    }
}
