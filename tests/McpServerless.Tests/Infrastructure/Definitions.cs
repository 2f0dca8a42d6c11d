using McpServerless.Model;

namespace McpServerless.Tests.Infrastructure;

internal static class Definitions
{
    public static McpDefinition Stdio(string name = "test-server") =>
        new() { Name = name, Transport = McpTransport.Stdio, Command = "echo", Args = ["hello"] };

    public static McpDefinition Http(string name, string url = "http://127.0.0.1:9/mcp") =>
        new() { Name = name, Transport = McpTransport.StreamableHttp, Url = url };
}
