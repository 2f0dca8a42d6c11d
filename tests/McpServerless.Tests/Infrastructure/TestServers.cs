using McpServerless.Model;

namespace McpServerless.Tests.Infrastructure;

/// <summary>The SDK-built test MCP server (tests/TestMcpServer), the conformance upstream (tests/ConformanceServer) and npm's server-everything, as real upstreams.</summary>
public static class TestServers
{
    /// <summary>The test server's assembly, built beside the tests in the same configuration.</summary>
    public static string TestServerDll { get; } = FindBuilt("TestMcpServer", "McpServerless.TestMcpServer.dll");

    /// <summary>The conformance upstream's assembly: the tools, resources and prompts the official conformance suite names.</summary>
    public static string ConformanceServerDll { get; } = FindBuilt("ConformanceServer", "McpServerless.ConformanceServer.dll");

    /// <summary>The conformance upstream over stdio.</summary>
    public static McpDefinition ConformanceStdio(string name) => new()
    {
        Name = name,
        Transport = McpTransport.Stdio,
        Command = "dotnet",
        Args = [ConformanceServerDll, "stdio"],
        Timeout = TimeSpan.FromSeconds(20),
    };

    public static McpDefinition Stdio(string name, Func<McpDefinition, McpDefinition>? adjust = null)
    {
        var definition = new McpDefinition
        {
            Name = name,
            Transport = McpTransport.Stdio,
            Command = "dotnet",
            Args = [TestServerDll, "stdio"],
            Timeout = TimeSpan.FromSeconds(20),
        };
        return adjust is null ? definition : adjust(definition);
    }

    /// <summary>A streamable-HTTP upstream at the test server started on <paramref name="port"/> (<see cref="StartHttpAsync"/>).</summary>
    public static McpDefinition Http(string name, int port, Func<McpDefinition, McpDefinition>? adjust = null)
    {
        var definition = new McpDefinition { Name = name, Transport = McpTransport.StreamableHttp, Url = $"http://127.0.0.1:{port}/mcp" };
        return adjust is null ? definition : adjust(definition);
    }

    /// <summary>Starts the test server over HTTP on a free loopback port; its streamable endpoint is /mcp, legacy SSE /mcp/sse.</summary>
    public static async Task<(ExternalProcess Process, int Port)> StartHttpAsync(int? port = null)
    {
        var chosen = port ?? TestTools.FreeTcpPort();
        var process = ExternalProcess.Start("dotnet", [TestServerDll, "http", chosen.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await process.WaitForPortAsync(chosen);
        return (process, chosen);
    }

    /// <summary>
    /// Starts the test server over HTTP taking only access tokens from <paramref name="issuer"/> for its own URL (its
    /// <c>/mcp</c> endpoint, returned as <c>Resource</c>), checked by ASP.NET Core's JwtBearer with no clock skew.
    /// </summary>
    public static async Task<(ExternalProcess Process, string Resource)> StartProtectedHttpAsync(string issuer)
    {
        var port = TestTools.FreeTcpPort();
        var resource = $"http://127.0.0.1:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/mcp";
        var process = ExternalProcess.Start("dotnet", [TestServerDll, "http", port.ToString(System.Globalization.CultureInfo.InvariantCulture), issuer, resource]);
        await process.WaitForPortAsync(port);
        return (process, resource);
    }

    /// <summary>npm's reference server over stdio.</summary>
    public static McpDefinition EverythingStdio(string name) => new()
    {
        Name = name,
        Transport = McpTransport.Stdio,
        Command = "node",
        Args = [TestTools.NodePackageFile("@modelcontextprotocol/server-everything", "dist/index.js"), "stdio"],
        Timeout = TimeSpan.FromSeconds(20),
    };

    private static string FindBuilt(string project, string assembly)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory); // tests/McpServerless.Tests/bin/<configuration>/<tfm>/
        var configuration = testBin.Parent!.Name;
        var framework = testBin.Name;
        var testsDir = testBin.Parent.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(testsDir, project, "bin", configuration, framework, assembly);
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{project} is not built at {dll}.");
    }
}
