using System.Collections.Concurrent;
using McpServerless.Configuration;
using Microsoft.Extensions.Options;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// Admits downstream sessions within <c>McpProxy:Limits</c> — <c>MaxSessionsPerServer</c> per route's server (or the
/// aggregate) and <c>MaxSessionsPerCaller</c> per caller there — and knows the owner of every open session id.
/// A session holds a <see cref="SessionSlot"/> from the request that opens it until it ends, so only live sessions
/// count. The counters change only when a session opens or closes, under one lock; finding a session's owner (every
/// request on a session) takes none.
/// </summary>
internal sealed class SessionAdmission(IOptions<McpProxyOptions> options)
{
    private readonly ConcurrentDictionary<string, SessionOwner> _owners = new(StringComparer.Ordinal);
    private readonly Lock _counting = new();
    private readonly Dictionary<string, int> _perServer = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Server, string Caller), int> _perCaller = [];

    /// <summary>True when <paramref name="sessionId"/> is an open session of exactly <paramref name="owner"/>.</summary>
    public bool IsOwnedBy(string sessionId, SessionOwner owner) => _owners.TryGetValue(sessionId, out var bound) && bound == owner;

    /// <summary>Reserves a slot for a session about to open, or returns null and the limit that is reached.</summary>
    public SessionSlot? TryReserve(SessionOwner owner, out string refusal)
    {
        var limits = options.Value.Limits;
        var server = owner.Route.Server;
        var caller = (server, owner.CallerKey);
        var where = server.Length == 0 ? "the aggregated endpoint" : $"MCP server '{server}'";
        lock (_counting)
        {
            var onServer = _perServer.GetValueOrDefault(server);
            var byCaller = _perCaller.GetValueOrDefault(caller);
            if (onServer >= limits.MaxSessionsPerServer)
            {
                refusal = $"{where} has reached its limit of {limits.MaxSessionsPerServer} open sessions (MaxSessionsPerServer); retry later.";
                return null;
            }
            if (byCaller >= limits.MaxSessionsPerCaller)
            {
                refusal = $"You hold {byCaller} open sessions on {where}, the limit per caller (MaxSessionsPerCaller); close one or let it expire.";
                return null;
            }
            _perServer[server] = onServer + 1;
            _perCaller[caller] = byCaller + 1;
        }
        refusal = "";
        return new SessionSlot(this, owner);
    }

    internal void Bind(string sessionId, SessionOwner owner) => _owners[sessionId] = owner;

    internal void Release(SessionOwner owner, string? sessionId)
    {
        if (sessionId is not null) _owners.TryRemove(KeyValuePair.Create(sessionId, owner));
        var server = owner.Route.Server;
        lock (_counting)
        {
            Decrement(_perServer, server);
            Decrement(_perCaller, (server, owner.CallerKey));
        }
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key) where TKey : notnull
    {
        if (counts.GetValueOrDefault(key) <= 1) counts.Remove(key);
        else counts[key]--;
    }
}

/// <summary>
/// One admitted session's place: bound to the session's id when the session opens, freed when it ends — or, when no
/// session opened on it, when the request that reserved it ends.
/// </summary>
internal sealed class SessionSlot(SessionAdmission admission, SessionOwner owner) : IDisposable
{
    private const int Reserved = 0, InUse = 1, Freed = 2;
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private string? _sessionId;

    public SessionOwner Owner => owner;

    /// <summary>Completes once the slot is bound to a session or freed unused.</summary>
    public Task Settled => _settled.Task;

    /// <summary>Binds the slot to the session opened on it: from now on only that session's end frees it.</summary>
    public void Bind(string sessionId)
    {
        if (Interlocked.CompareExchange(ref _state, InUse, Reserved) != Reserved) return;
        _sessionId = sessionId;
        admission.Bind(sessionId, owner);
        _settled.TrySetResult();
    }

    /// <summary>Frees the slot unless a session holds it (the reserving request ended without opening one).</summary>
    public void FreeIfUnused()
    {
        if (Interlocked.CompareExchange(ref _state, Freed, Reserved) != Reserved) return;
        admission.Release(owner, null);
        _settled.TrySetResult();
    }

    /// <summary>Frees the slot of a session that ended.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _state, Freed) == Freed) return;
        admission.Release(owner, _sessionId);
        _settled.TrySetResult();
    }
}
