using System.Buffers.Text;
using System.Text;
using System.Text.Json.Serialization;

namespace McpServerless.Audit;

/// <summary>
/// Where audit entries of every replica are kept and read back, newest first. Each backend drops entries older
/// than <see cref="AuditOptions.Retention"/> (never returning them, and trimming them from storage) and bounds what it keeps.
/// Backends that cannot be reached throw <see cref="Storage.McpStoreUnavailableException"/>.
/// </summary>
public interface IAuditStore
{
    /// <summary>Stores a batch; the list is not kept.</summary>
    ValueTask AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>
    /// Entries matching the query, newest first, at most <see cref="AuditQuery.Limit"/>. <see cref="AuditPage.Next"/>
    /// is set while more may follow (a page may then hold fewer entries than the limit); null at the end.
    /// </summary>
    /// <exception cref="InvalidAuditCursorException">The cursor was not one this store wrote.</exception>
    ValueTask<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>What <c>GET /admin/audit</c> asks for. Every filter is an exact match; null matches anything.</summary>
public sealed record AuditQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public string? Server { get; init; }

    /// <summary>A tool or prompt name, or a resource URI.</summary>
    public string? Tool { get; init; }

    /// <summary>A token fingerprint, a principal or a client address.</summary>
    public string? Caller { get; init; }

    /// <summary>Only entries at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    /// <summary>The <see cref="AuditPage.Next"/> of the previous page.</summary>
    public string? Cursor { get; init; }

    /// <summary>Whether an entry passes the filters (not the time bounds, which each store applies as a range).</summary>
    public bool Matches(in AuditEntry entry) =>
        (Server is null || string.Equals(entry.Server, Server, StringComparison.Ordinal))
        && (Tool is null || string.Equals(entry.Tool, Tool, StringComparison.Ordinal))
        && (Caller is null || entry.Caller.Matches(Caller));

    /// <summary>The oldest time a query may return: <see cref="Since"/>, but never before the retention horizon.</summary>
    public DateTimeOffset OldestAllowed(DateTimeOffset now, TimeSpan retention)
    {
        var horizon = now - retention;
        return Since is { } since && since > horizon ? since : horizon;
    }
}

/// <summary>One page of entries, newest first, and the cursor of the next page (null at the end).</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Next)
{
    public static AuditPage Empty { get; } = new([], null);
}

/// <summary>
/// Wraps a store's position (a sequence number, a stream id, a partition and row key) into an opaque URL-safe
/// cursor, so clients pass it back rather than build one.
/// </summary>
public static class AuditCursor
{
    public static string Encode(string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(position));

    /// <exception cref="InvalidAuditCursorException"/>
    public static string Decode(string cursor)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw new InvalidAuditCursorException();
        }
    }
}

/// <summary>A cursor that no store wrote, or that another backend wrote.</summary>
public sealed class InvalidAuditCursorException()
    : FormatException("cursor is not one this gateway handed out; pass back the 'next' value of a previous page unchanged.");
