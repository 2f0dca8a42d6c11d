using System.Text.Json;

namespace McpServerless.Tests.Infrastructure;

/// <summary>The official TypeScript MCP SDK client (tests/node/ts-client.mjs), run with node against a gateway URL.</summary>
public static class TypeScriptClient
{
    /// <summary>Connects over <paramref name="mode"/> (<c>streamable</c> or <c>sse</c>), lists tools and calls one with a message; returns what it saw.</summary>
    /// <param name="tool">The tool to call; null for the first whose name ends in <c>echo</c>.</param>
    public static async Task<JsonDocument> RunAsync(Uri url, string mode, string? tool = null, string? token = null)
    {
        var script = TestTools.NodeScript("ts-client.mjs");
        string[] args = [script, url.ToString(), mode, .. tool is null ? Array.Empty<string>() : [tool], .. token is null ? Array.Empty<string>() : [token]];
        await using var node = ExternalProcess.Start("node", args);
        var output = await node.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return JsonDocument.Parse(output.Trim().Split('\n').Last());
    }
}
