using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Downstream;
using Microsoft.AspNetCore.Http;

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
}
