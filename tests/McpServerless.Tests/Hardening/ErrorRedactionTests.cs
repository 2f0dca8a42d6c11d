using System.Net;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpServerless.Tests.Hardening;

/// <summary>An upstream that echoes the secrets it was sent back in its errors does not get them shown, stored or logged by the gateway.</summary>
public sealed class ErrorRedactionTests
{
    private const string HeaderSecret = "hdr-secret-4f1b9c";
    private const string BearerSecret = "bearer-secret-77aa01";

    [Fact]
    public async Task Header_values_echoed_by_a_rejecting_upstream_appear_in_no_status_problem_or_log()
    {
        await using var upstream = await EchoingRejecterAsync();
        var logs = new LogCapture();
        await using var gateway = await GatewayHarness.StartAsync(configureBuilder: b => b.Logging.AddProvider(logs).AddFilter<LogCapture>(null, LogLevel.Trace));
        await gateway.Admin.RegisterAsync(Definitions.Http("echoer", $"{upstream.Urls.First()}/mcp") with
        {
            Headers = new Dictionary<string, string> { ["X-Api-Key"] = HeaderSecret, ["Authorization"] = $"Bearer {BearerSecret}" },
            Timeout = TimeSpan.FromSeconds(2),
        });

        var status = await Eventually.GetAsync(async () => (await gateway.Admin.GetAsync("echoer"))!.Status,
            s => s.LastError is not null, "the rejection to be recorded");
        Assert.Contains("401", status.LastError);
        using var response = await gateway.Http.SendAsync(RawMcp.Post("echoer/stream", RawMcp.Initialize));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("401", problem);

        foreach (var text in new[] { status.LastError!, problem }.Concat(logs.Lines))
        {
            Assert.DoesNotContain(HeaderSecret, text);
            Assert.DoesNotContain(BearerSecret, text);
        }
        Assert.Contains(logs.Lines, l => l.Contains("***", StringComparison.Ordinal));
    }

    /// <summary>An HTTP "MCP server" that refuses every request with 401 and a body quoting the credentials it got.</summary>
    private static async Task<WebApplication> EchoingRejecterAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Map("/mcp", (HttpRequest request) => Results.Text(
            $"refused key {request.Headers["X-Api-Key"]} and credentials {request.Headers.Authorization}", statusCode: StatusCodes.Status401Unauthorized));
        await app.StartAsync();
        return app;
    }
}
