using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Downstream;
using McpServerless.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Proxy;

/// <summary>The SEP-2243 rules the gateway applies to relayed tools' <c>x-mcp-header</c> parameters.</summary>
public sealed class ParamHeadersTests
{
    private static readonly JsonElement Schema = JsonElement.Parse("""
        { "type": "object", "properties": {
            "region": { "type": "string", "x-mcp-header": "Region" },
            "count": { "type": "integer", "x-mcp-header": "Count" },
            "query": { "type": "string" } } }
        """);

    [Theory]
    [InlineData("""{"region":"eu","query":"q"}""", "Region=eu", null)]
    [InlineData("""{"region":"Hello"}""", "Region= =?base64?SGVsbG8=?= ", null)]            // Base64, white space trimmed
    [InlineData("""{"region":"=?base64?SGVsbG8="}""", "Region==?base64?SGVsbG8=", null)]   // no ?= suffix: literal
    [InlineData("""{"count":42}""", "Count=42.0", null)]                                   // numbers match by value
    [InlineData("""{"query":"q"}""", "", null)]                                            // nothing annotated given
    [InlineData("""{"region":"eu"}""", "", "Missing required Mcp-Param-Region")]
    [InlineData("""{"region":"eu"}""", "Region=us", "does not match argument 'region'")]
    [InlineData("""{"region":"Hello"}""", "Region==?base64?SGVsbG8?=", "not valid Base64")] // bad padding
    [InlineData("""{"region":"Hello"}""", "Region==?base64?SGVs!!!bG8=?=", "not valid Base64")]
    public void Headers_are_checked_against_annotated_arguments(string arguments, string header, string? problem)
    {
        var headers = new HeaderDictionary();
        if (header.Length > 0)
        {
            var split = header.IndexOf('=');
            headers["Mcp-Param-" + header[..split]] = header[(split + 1)..];
        }

        var mismatch = ParamHeaders.Mismatch(headers, Schema, JsonNode.Parse(arguments));

        if (problem is null) Assert.Null(mismatch);
        else Assert.Contains(problem, mismatch);
    }

    /// <summary>
    /// Through the gateway, against the conformance upstream's <c>test_param_header</c> (its <c>region</c> is
    /// <c>x-mcp-header: Region</c>), on the server's endpoint, the aggregate and a virtual server that renames it.
    /// </summary>
    public sealed class ThroughTheGateway : IAsyncLifetime
    {
        private GatewayHarness _gateway = null!;

        public async Task InitializeAsync()
        {
            _gateway = await GatewayHarness.StartAsync();
            await _gateway.Admin.RegisterAsync(TestServers.ConformanceStdio("conformance"));
            await _gateway.WaitConnectedAsync("conformance");
            await _gateway.Admin.RegisterVirtualServerAsync(new McpServerless.Model.VirtualServerDefinition
            {
                Name = "regional",
                Tools = ["conformance:test_param_header"],
                Overrides = new Dictionary<string, McpServerless.Model.MemberOverride> { ["conformance:test_param_header"] = new() { Name = "by_region" } },
            });
            await Eventually.GetAsync(() => Task.FromResult(_gateway.Proxy.Services.GetRequiredService<McpServerless.VirtualServers.VirtualServerCatalog>().TryGet("regional", out _)),
                served => served, "the catalog to serve the virtual server");
        }

        public async Task DisposeAsync() => await _gateway.DisposeAsync();

        [Theory]
        [InlineData("conformance/stream", "test_param_header", "eu", HttpStatusCode.OK)]
        [InlineData("conformance/stream", "test_param_header", "us", HttpStatusCode.BadRequest)]
        [InlineData("conformance/stream", "test_param_header", null, HttpStatusCode.BadRequest)]
        [InlineData("mcp", "conformance__test_param_header", "eu", HttpStatusCode.OK)]
        [InlineData("mcp", "conformance__test_param_header", "us", HttpStatusCode.BadRequest)]
        [InlineData("regional/stream", "by_region", "eu", HttpStatusCode.OK)]
        [InlineData("regional/stream", "by_region", null, HttpStatusCode.BadRequest)]
        public async Task A_call_is_refused_before_any_work_when_its_header_contradicts_the_body(string path, string tool, string? header, HttpStatusCode expected)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent("""
                    {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"TOOL","arguments":{"region":"eu"},
                     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}
                    """.Replace("TOOL", tool, StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
            request.Headers.Add("Mcp-Method", "tools/call");
            request.Headers.Add("Mcp-Name", tool);
            if (header is not null) request.Headers.Add("Mcp-Param-Region", header);

            using var response = await _gateway.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(expected, response.StatusCode);
            if (expected == HttpStatusCode.OK)
            {
                Assert.Contains("region eu", body);
                return;
            }
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            using var error = JsonDocument.Parse(body);
            Assert.Equal(3, error.RootElement.GetProperty("id").GetInt32());
            Assert.Equal(-32020, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }
}
