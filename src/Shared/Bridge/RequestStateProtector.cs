using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace McpServerless.Bridge;

/// <summary>
/// Issues and checks the <c>requestState</c> of the gateway's input-required results (the revision bridge): a
/// state names one pending call held by this replica, is confidential and integrity-protected (ASP.NET Core Data
/// Protection, with the key ring shared by replicas through the configured store), and is good only for the caller
/// and route it was issued to, until it expires, and once.
/// </summary>
/// <remarks>
/// The expiry travels inside the protected payload and is checked against <see cref="TimeProvider"/>, rather than
/// through <c>ITimeLimitedDataProtector</c>: that one reads the system clock and fails an expired payload with the
/// same exception as a forged one, and a caller deserves to know which it was. Single use is enforced where it can
/// be, by the replica that issued the state and holds the call: it remembers each outstanding state's nonce until
/// the state is used or expires, so the registry of pending calls never sees a state twice.
/// </remarks>
public sealed class RequestStateProtector
{
    /// <summary>The Data Protection purpose: states protected for anything else never unprotect here.</summary>
    public const string Purpose = "McpServerless.Bridge.RequestState.v1";

    /// <summary>Longer inputs are refused unread: an issued state is a few hundred characters.</summary>
    public const int MaxStateLength = 4096;

    private const byte FormatVersion = 1;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);

    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly string _replica;
    // Tells this process from an earlier run of the same replica (a restarted container keeps its host name, and
    // often its process id): the calls that run held are gone.
    private readonly Guid _incarnation = Guid.NewGuid();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _outstanding = new();
    private long _nextPruneTicks;

    /// <param name="replica">This replica's name (<c>McpProxy:InstanceId</c>); states name it so a retry that reaches another replica can say where its call is.</param>
    public RequestStateProtector(IDataProtectionProvider provider, string replica, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replica);
        _protector = provider.CreateProtector(Purpose);
        _replica = replica;
        _time = time;
    }

    /// <summary>States issued and neither used nor expired.</summary>
    public int OutstandingCount => _outstanding.Count;

    /// <summary>A state for the pending call <paramref name="callId"/>, good for this caller and route until <paramref name="expires"/>.</summary>
    /// <param name="caller">Who may use it: the bearer token's hash when one was presented, else the client address.</param>
    /// <param name="route">Where it may be used: the server's name, or the aggregate endpoint.</param>
    public string Protect(string callId, string caller, string route, DateTimeOffset expires)
    {
        var now = _time.GetUtcNow();
        PruneExpired(now);
        var nonce = Guid.NewGuid();
        var payload = new RequestStatePayload(nonce, _replica, _incarnation, expires, caller, route, callId);
        _outstanding[nonce] = expires;
        return Base64Url.EncodeToString(_protector.Protect(payload.ToBytes()));
    }

    /// <summary>
    /// Checks a state presented by <paramref name="caller"/> on <paramref name="route"/>; a valid one is used up.
    /// Checks run from the most general failure to the most specific, so a refusal never tells a stranger more than
    /// that the state is not theirs.
    /// </summary>
    public RequestStateCheck Unprotect(string requestState, string caller, string route)
    {
        if (Open(requestState) is not { } state) return RequestStateCheck.Refused(RequestStateRejection.Tampered);
        if (_time.GetUtcNow() >= state.Expires) return RequestStateCheck.Refused(RequestStateRejection.Expired);
        if (!Same(state.Caller, caller)) return RequestStateCheck.Refused(RequestStateRejection.OtherCaller);
        if (state.Route != route) return RequestStateCheck.Refused(RequestStateRejection.OtherRoute);
        if (state.Replica != _replica || state.Incarnation != _incarnation)
            return RequestStateCheck.Refused(RequestStateRejection.OtherReplica, state.Replica != _replica ? state.Replica : null);
        if (!_outstanding.TryRemove(state.Nonce, out _)) return RequestStateCheck.Refused(RequestStateRejection.Replayed);
        return RequestStateCheck.Accepted(state.CallId);
    }

    private RequestStatePayload? Open(string requestState)
    {
        if (string.IsNullOrEmpty(requestState) || requestState.Length > MaxStateLength) return null;
        try
        {
            return RequestStatePayload.FromBytes(_protector.Unprotect(Base64Url.DecodeFromChars(requestState)));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or EndOfStreamException or ArgumentException)
        {
            return null;
        }
    }

    // Callers are compared in constant time: the state is the caller's to hold, but not to probe.
    private static bool Same(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private void PruneExpired(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextPruneTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextPruneTicks, (now + PruneInterval).UtcTicks, next) != next) return;
        foreach (var (nonce, expires) in _outstanding)
        {
            if (expires <= now) _outstanding.TryRemove(nonce, out _);
        }
    }

    /// <summary>What a state holds, in a small versioned binary form (the protected payload is opaque to clients anyway).</summary>
    private sealed record RequestStatePayload(Guid Nonce, string Replica, Guid Incarnation, DateTimeOffset Expires, string Caller, string Route, string CallId)
    {
        public byte[] ToBytes()
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(FormatVersion);
                writer.Write(Nonce.ToByteArray());
                writer.Write(Incarnation.ToByteArray());
                writer.Write(Expires.ToUnixTimeMilliseconds());
                writer.Write(Replica);
                writer.Write(Caller);
                writer.Write(Route);
                writer.Write(CallId);
            }
            return buffer.ToArray();
        }

        public static RequestStatePayload? FromBytes(byte[] bytes)
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (reader.ReadByte() != FormatVersion) return null;
            var nonce = new Guid(reader.ReadBytes(16));
            var incarnation = new Guid(reader.ReadBytes(16));
            var expires = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            return new(nonce, reader.ReadString(), incarnation, expires, reader.ReadString(), reader.ReadString(), reader.ReadString());
        }
    }
}

/// <summary>Why a <c>requestState</c> was refused.</summary>
public enum RequestStateRejection
{
    /// <summary>Not a state this gateway issued, or altered since: it fails its integrity check (or its key is gone).</summary>
    Tampered,

    /// <summary>Issued here, but past its expiry: the pending call it named has been given up.</summary>
    Expired,

    /// <summary>Issued to another caller.</summary>
    OtherCaller,

    /// <summary>Issued for another server or endpoint.</summary>
    OtherRoute,

    /// <summary>Issued by another replica (or an earlier run of this one), which holds (or held) the pending call.</summary>
    OtherReplica,

    /// <summary>Already used: each state continues its call once.</summary>
    Replayed,
}

/// <summary>The outcome of <see cref="RequestStateProtector.Unprotect"/>: the pending call to continue, or why not.</summary>
public sealed record RequestStateCheck
{
    /// <summary>
    /// JSON-RPC <c>-32602</c> (invalid params): the error SEP-2322's tampered-state scenario names for a state that
    /// fails verification, used for every refusal; <see cref="Rejection"/> (as <c>data.reason</c>) says which.
    /// </summary>
    public const int ErrorCode = -32602;

    private RequestStateCheck(string? callId, RequestStateRejection? rejection, string? replica)
    {
        CallId = callId;
        Rejection = rejection;
        Replica = replica;
    }

    /// <summary>The pending call the state continues; null when refused.</summary>
    public string? CallId { get; }

    /// <summary>Why the state was refused; null when accepted.</summary>
    public RequestStateRejection? Rejection { get; }

    /// <summary>For <see cref="RequestStateRejection.OtherReplica"/>: the replica holding the call (null for an earlier run of this one).</summary>
    public string? Replica { get; }

    /// <summary>What the caller is told: why, and that calling again without the state starts afresh.</summary>
    public string? ErrorMessage => Rejection switch
    {
        null => null,
        RequestStateRejection.Tampered => "requestState failed its integrity check: it was not issued by this gateway or was altered. Call again without it.",
        RequestStateRejection.Expired => "requestState has expired and its call was given up. Call again without it.",
        RequestStateRejection.OtherCaller => "requestState was issued to another caller.",
        RequestStateRejection.OtherRoute => "requestState was issued for another server or endpoint.",
        RequestStateRejection.OtherReplica => Replica is null
            ? "requestState names a call this gateway replica held before it restarted; the call is gone. Call again without it."
            : $"requestState names a call held by gateway replica '{Replica}', and this request reached another one; the deployment must route retries to the replica that issued the state (see docs/revision-bridge.md). Call again without it to start afresh.",
        RequestStateRejection.Replayed => "requestState was already used; each continues its call once. Use the requestState of the latest input-required result, or call again without one.",
        _ => throw new InvalidOperationException($"Unknown rejection {Rejection}."),
    };

    /// <summary>The reason as a JSON-friendly word, for the error's <c>data.reason</c>.</summary>
    public string? Reason => Rejection switch
    {
        null => null,
        RequestStateRejection.Tampered => "tampered",
        RequestStateRejection.Expired => "expired",
        RequestStateRejection.OtherCaller => "other-caller",
        RequestStateRejection.OtherRoute => "other-route",
        RequestStateRejection.OtherReplica => "other-replica",
        RequestStateRejection.Replayed => "replayed",
        _ => throw new InvalidOperationException($"Unknown rejection {Rejection}."),
    };

    internal static RequestStateCheck Accepted(string callId) => new(callId, null, null);

    internal static RequestStateCheck Refused(RequestStateRejection rejection, string? replica = null) => new(null, rejection, replica);
}
