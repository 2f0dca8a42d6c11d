using System.Xml.Linq;
using Azure.Data.Tables;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace McpServerless.Bridge;

/// <summary>
/// Data Protection's key ring in an Azure table: one row per key in partition <see cref="Partition"/>, the key's XML
/// in column <c>Xml</c>. The gateway keeps it in the registry's table, whose other partitions (<c>mcp</c>,
/// <c>report-*</c>) are read by exact ranges, so the keys live beside the registry and share its access control.
/// </summary>
/// <remarks>
/// <see cref="IXmlRepository"/> is synchronous, so these calls are: Data Protection reads the ring at start, once a
/// day and when it meets an unknown key, and writes only when it makes a key (every 90 days), all off the request
/// path's common case.
/// </remarks>
public sealed class TableXmlRepository : IXmlRepository
{
    public const string Partition = "dataprotection";

    private const string XmlColumn = "Xml";

    private readonly TableClient _table;
    private volatile bool _created;

    public TableXmlRepository(TableClient table) => _table = table;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        EnsureTable();
        return [.. _table.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), select: [XmlColumn])
            .Select(entity => XElement.Parse(entity.GetString(XmlColumn)))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        EnsureTable();
        // Keys are named key-{guid}: a row key of its own. Upsert, so a retried write whose first try landed succeeds.
        var row = string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName;
        _table.UpsertEntity(new TableEntity(Partition, row) { [XmlColumn] = element.ToString(SaveOptions.DisableFormatting) }, TableUpdateMode.Replace);
    }

    // Not cached when it fails: the next read tries again once the service is back. Two replicas racing both succeed.
    private void EnsureTable()
    {
        if (_created) return;
        _table.CreateIfNotExists();
        _created = true;
    }
}
