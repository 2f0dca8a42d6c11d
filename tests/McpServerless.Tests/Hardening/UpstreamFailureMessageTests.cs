using System.Net;
using System.Text.Json.Nodes;
using McpServerless.Tests.Infrastructure;
using McpServerless.Tests.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;

namespace McpServerless.Tests.Hardening;

/// <summary>A failed call says what went wrong upstream: an error answer, no answer in time, or a lost connection.</summary>
public sealed class UpstreamFailureMessageTests
{
    [Fact]
    public async Task An_upstream_http_error_is_reported_as_such_not_as_a_lost_connection()
    {
        await using var upstream = await FailingToolServerAsync();
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(Definitions.Http("flaky", $"{upstream.Urls.First()}/mcp"));
        await gateway.WaitConnectedAsync("flaky");
        await using var client = await gateway.ConnectAsync("flaky/stream");

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("explode").AsTask());

        Assert.Contains("HTTP 500", error.Message);
        Assert.DoesNotContain("connection lost", error.Message);
    }

    [Fact]
    public async Task A_stdio_upstream_that_dies_mid_call_is_a_lost_connection()
    {
        await using var gateway = await GatewayHarness.StartAsync();
        await gateway.Admin.RegisterAsync(TestServers.Stdio("mortal"));
        await gateway.WaitConnectedAsync("mortal");
        await using var client = await gateway.ConnectAsync("mortal/stream");
        var pid = int.Parse((await client.CallToolAsync("whoami")).Text(), System.Globalization.CultureInfo.InvariantCulture);

        var call = client.CallToolAsync("sleep", new Dictionary<string, object?> { ["milliseconds"] = 60_000 }).AsTask();
        await gateway.WaitInFlightAsync("mortal");
        System.Diagnostics.Process.GetProcessById(pid).Kill();

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => call);
        Assert.True(error.Message.Contains("lost its connection", StringComparison.Ordinal), error.Message);
        Assert.DoesNotContain("HTTP", error.Message);
    }

    /// <summary>A hand-written streamable-HTTP MCP server: it initializes and lists one tool, and calling it is an HTTP 500.</summary>
    private static async Task<WebApplication> FailingToolServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/mcp", async (HttpRequest request) =>
        {
            var message = await JsonNode.ParseAsync(request.Body);
            var id = message?["id"]?.DeepClone();
            JsonNode? result;
            switch (message?["method"]?.GetValue<string>())
            {
                case "tools/call":
                    return Results.Text("upstream exploded", statusCode: StatusCodes.Status500InternalServerError);
                case "initialize":
                    result = JsonNode.Parse("""{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"flaky","version":"1"}}""");
                    break;
                case "tools/list":
                    result = JsonNode.Parse("""{"tools":[{"name":"explode","inputSchema":{"type":"object"}}]}""");
                    break;
                default:
                    if (id is null) return Results.StatusCode(StatusCodes.Status202Accepted); // a notification
                    result = new JsonObject();
                    break;
            }
            return Results.Text(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result }.ToJsonString(), "application/json");
        });
        app.MapGet("/mcp", () => Results.StatusCode(StatusCodes.Status405MethodNotAllowed));
        await app.StartAsync();
        return app;
    }
}
