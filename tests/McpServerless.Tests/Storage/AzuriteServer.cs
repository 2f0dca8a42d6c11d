using McpServerless.Configuration;
using McpServerless.Tests.Infrastructure;

namespace McpServerless.Tests.Storage;

/// <summary>
/// Azurite's table service alone (one node process, killed by PID) on a loopback port. It keeps data in memory,
/// so a restart starts empty.
/// </summary>
public sealed class AzuriteServer(int port) : LoopbackServer(port)
{
    // Azurite's documented development account key.
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public static async Task<AzuriteServer> StartNewAsync()
    {
        var server = new AzuriteServer(TestTools.FreeTcpPort());
        await server.StartAsync();
        return server;
    }

    protected override ExternalProcess Launch() =>
        ExternalProcess.Start("node", [TestTools.NodePackageFile("azurite", "dist/src/table/main.js"), "--inMemoryPersistence", "--tableHost", "127.0.0.1",
            "--tablePort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--disableTelemetry", "--skipApiVersionCheck"]);

    public TableStoreOptions StoreOptions(string tableName) =>
        new() { ConnectionString = ConnectionString, TableName = tableName, Timeout = TimeSpan.FromSeconds(2) };
}

public sealed class AzuriteFixture : LoopbackServerFixture<AzuriteServer>
{
    protected override Task<AzuriteServer> StartServerAsync() => AzuriteServer.StartNewAsync();
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>Unique names so tests sharing one server never see each other's data.</summary>
internal static class UniqueName
{
    public static string KeyPrefix() => $"test-{Guid.NewGuid():N}:";

    public static string Table() => $"t{Guid.NewGuid():N}";
}
