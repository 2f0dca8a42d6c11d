using System.Net;
using System.Net.Sockets;

namespace McpServerless.Tests.Infrastructure;

/// <summary>Where the real peers installed by scripts/test.sh live, and free loopback ports for them.</summary>
public static class TestTools
{
    /// <summary>
    /// The node_modules folder of .tools/node (set by scripts/test.sh as MCP_TEST_NODE_MODULES, otherwise
    /// found above the test binaries). Missing tools fail the test with the command that installs them:
    /// nothing is skipped.
    /// </summary>
    public static string NodeModules { get; } = FindNodeModules();

    /// <summary>The path of an npm package's file, e.g. ("azurite", "dist/src/azurite-table.js").</summary>
    public static string NodePackageFile(string package, string relativePath)
    {
        var path = Path.Combine(NodeModules, package, relativePath);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing; run ./scripts/test.sh to install the test peers.");
    }

    /// <summary>
    /// Copies a script of tests/node next to .tools/node/node_modules, where Node resolves the packages it imports, and
    /// returns its path. Copied under a temporary name and renamed, so tests running at once never see half a file.
    /// </summary>
    public static string NodeScript(string name)
    {
        var target = Path.Combine(Directory.GetParent(NodeModules)!.FullName, name);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        File.Copy(Path.Combine(RepositoryRoot, "tests", "node", name), temporary);
        File.Move(temporary, target, overwrite: true);
        return target;
    }

    /// <summary>The repository's root, found above the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "McpServerless.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("The repository root (McpServerless.sln) is not above the test binaries.");
    }

    private static string FindNodeModules()
    {
        if (Environment.GetEnvironmentVariable("MCP_TEST_NODE_MODULES") is { Length: > 0 } configured && Directory.Exists(configured))
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "node", "node_modules");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(".tools/node/node_modules not found; run ./scripts/test.sh to install the test peers.");
    }
}
