using System.Globalization;
using McpServerless.Audit;
using Microsoft.Extensions.Options;

namespace McpServerless.Storage;

/// <summary>
/// The default audit store: the newest <see cref="AuditOptions.Capacity"/> entries of this process, in a ring that
/// grows as entries arrive. Writes come from the audit pump and reads from the admin API, never from the proxy path,
/// so one lock is enough. The cursor is the sequence number of the last entry returned.
/// </summary>
public sealed class InMemoryAuditStore(IOptions<AuditOptions> options, TimeProvider time) : IAuditStore
{
    private readonly Lock _gate = new();
    private readonly int _capacity = options.Value.Capacity;
    private readonly TimeSpan _retention = options.Value.Retention;
    private Slot[] _ring = new Slot[Math.Min(options.Value.Capacity, 256)];
    private int _oldest;
    private int _count;
    private long _lastSequence;

    /// <summary>Entries held, expired ones not yet trimmed included.</summary>
    internal int Count
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    public ValueTask AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        var horizon = time.GetUtcNow() - _retention;
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                if (_count == _ring.Length)
                {
                    if (_count < _capacity) Grow();
                    else RemoveOldest();
                }
                _ring[(_oldest + _count) % _ring.Length] = new Slot(++_lastSequence, entry);
                _count++;
            }
            while (_count > 0 && _ring[_oldest].Entry.Time < horizon) RemoveOldest();
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        var before = query.Cursor is null ? long.MaxValue : ParseCursor(query.Cursor);
        var oldestAllowed = query.OldestAllowed(time.GetUtcNow(), _retention);
        var found = new List<AuditEntry>(Math.Min(query.Limit, 64));
        lock (_gate)
        {
            for (var i = _count - 1; i >= 0; i--)
            {
                ref readonly var slot = ref _ring[(_oldest + i) % _ring.Length];
                if (slot.Sequence >= before || slot.Entry.Time < oldestAllowed || !query.Matches(slot.Entry)) continue;
                if (found.Count == query.Limit)
                    return ValueTask.FromResult(new AuditPage(found, AuditCursor.Encode(Format(before))));
                found.Add(slot.Entry);
                before = slot.Sequence;
            }
        }
        return ValueTask.FromResult(new AuditPage(found, null));
    }

    private void Grow()
    {
        var grown = new Slot[Math.Min(_capacity, _ring.Length * 2)];
        for (var i = 0; i < _count; i++) grown[i] = _ring[(_oldest + i) % _ring.Length];
        _ring = grown;
        _oldest = 0;
    }

    private void RemoveOldest()
    {
        _ring[_oldest] = default;
        _oldest = (_oldest + 1) % _ring.Length;
        _count--;
    }

    private static long ParseCursor(string cursor) =>
        long.TryParse(AuditCursor.Decode(cursor), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? sequence
            : throw new InvalidAuditCursorException();

    private static string Format(long sequence) => sequence.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Slot(long Sequence, AuditEntry Entry);
}
