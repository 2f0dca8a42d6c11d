using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// The resources the gateway is subscribed to on one upstream connection, with who holds each subscription (a
/// downstream session, by its id; a listen stream): the upstream hears of a URI when its first holder subscribes and
/// of its end when the last one leaves, so one caller's unsubscribe never silences another's, and updates go only to
/// the holders of their URI. A session upstream is sent <c>resources/subscribe</c> and <c>resources/unsubscribe</c>; a
/// 2026-07-28 upstream, which has neither, gets every held URI in the filter of its <see cref="UpstreamListen"/>
/// stream, renewed on each change. The holds outlive a reconnect: the new session is subscribed to all of them again.
/// </summary>
internal sealed partial class ResourceSubscriptions(UpstreamConnection connection, ILogger logger)
{
    // Held across the upstream requests, so a subscribe and an unsubscribe of one URI cannot overtake each other.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<(object Holder, string Uri), byte> _held = new();
    private readonly Dictionary<string, int> _holders = new(StringComparer.Ordinal);
    private volatile string[] _uris = [];

    /// <summary>Every URI someone holds: what a 2026-07-28 upstream's listen stream asks for.</summary>
    public IReadOnlyCollection<string> Uris => _uris;

    /// <summary>Whether <paramref name="holder"/> is subscribed to <paramref name="uri"/>; read on every update, without waiting.</summary>
    public bool IsHeld(object holder, string uri) => _held.ContainsKey((holder, uri));

    /// <summary>Answers a session's <c>resources/subscribe</c> or <c>resources/unsubscribe</c> for it.</summary>
    /// <param name="session">The downstream session's id: its holds end with <see cref="ReleaseAllAsync"/> when it does.</param>
    public async Task<JsonNode?> AnswerAsync(string session, string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        var uri = parameters?["uri"].AsString() ?? throw new McpProtocolException($"{method} needs params.uri.", McpErrorCode.InvalidParams);
        if (method == RequestMethods.ResourcesUnsubscribe) await ReleaseAsync(session, [uri], cancellationToken);
        else if ((await AddAsync(session, [uri], cancellationToken)).Count == 0)
            throw new McpProtocolException($"MCP server '{connection.Name}' did not grant a subscription to '{uri}'.", McpErrorCode.InvalidParams);
        return new JsonObject();
    }

    /// <summary>
    /// Subscribes <paramref name="holder"/> to <paramref name="uris"/> and returns those it now holds: all of them, but
    /// for any a 2026-07-28 upstream left out of its listen acknowledgement.
    /// </summary>
    /// <exception cref="McpProtocolException">A session upstream refused a subscription (then none is taken).</exception>
    /// <exception cref="UpstreamException">The upstream is not connected, or did not answer.</exception>
    public async Task<IReadOnlyList<string>> AddAsync(object holder, IReadOnlyCollection<string> uris, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var added = uris.Distinct(StringComparer.Ordinal).Where(uri => !IsHeld(holder, uri)).ToList();
            var first = added.Where(uri => !_holders.ContainsKey(uri)).ToList();
            var refused = first.Count > 0 ? await SubscribeUpstreamAsync(first, cancellationToken) : [];
            foreach (var uri in added.Except(refused))
            {
                _held[(holder, uri)] = 0;
                _holders[uri] = _holders.GetValueOrDefault(uri) + 1;
            }
            _uris = [.. _holders.Keys];
            return [.. uris.Where(uri => IsHeld(holder, uri))];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Ends <paramref name="holder"/>'s subscriptions to <paramref name="uris"/>; the upstream's failure to let go is only logged.</summary>
    public async Task ReleaseAsync(object holder, IReadOnlyCollection<string> uris, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var last = new List<string>();
            foreach (var uri in uris)
            {
                if (!_held.TryRemove((holder, uri), out _)) continue;
                if (--_holders[uri] > 0) continue;
                _holders.Remove(uri);
                last.Add(uri);
            }
            if (last.Count == 0) return;
            _uris = [.. _holders.Keys];
            await UnsubscribeUpstreamAsync(last);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Ends every subscription <paramref name="holder"/> has (a session that ended).</summary>
    public Task ReleaseAllAsync(object holder) =>
        _held.IsEmpty ? Task.CompletedTask : ReleaseAsync(holder, [.. _held.Keys.Where(key => Equals(key.Holder, holder)).Select(key => key.Uri)]);

    /// <summary>Subscribes a new session upstream to everything held (a 2026-07-28 one's listen stream asks for it itself).</summary>
    public async Task RestoreAsync(UpstreamSession session, CancellationToken cancellationToken)
    {
        if (session.IsStateless || _held.IsEmpty) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var uri in _holders.Keys)
            {
                try
                {
                    await connection.SendAsync(RequestMethods.ResourcesSubscribe, new JsonObject { ["uri"] = uri }, null, cancellationToken);
                }
                catch (Exception ex) when (ex is McpProtocolException or UpstreamException)
                {
                    LogRestoreFailed(logger, connection.Name, ex.Message);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // Returns the URIs a 2026-07-28 upstream did not grant.
    private async Task<List<string>> SubscribeUpstreamAsync(List<string> uris, CancellationToken cancellationToken)
    {
        var session = connection.Session ?? throw new UpstreamException(UpstreamError.NotConnected, $"MCP server '{connection.Name}' is not connected.");
        if (session.Listen is { } listen)
        {
            _uris = [.. _holders.Keys, .. uris];
            try
            {
                var granted = await listen.RenewAsync(cancellationToken);
                // The stream still asks for a refused one until it is next renewed: its updates reach no one.
                return [.. uris.Where(uri => granted.ResourceSubscriptions?.Contains(uri) != true)];
            }
            finally
            {
                _uris = [.. _holders.Keys];
            }
        }
        var subscribed = 0;
        try
        {
            for (; subscribed < uris.Count; subscribed++)
                await connection.SendAsync(RequestMethods.ResourcesSubscribe, new JsonObject { ["uri"] = uris[subscribed] }, null, cancellationToken);
            return [];
        }
        catch
        {
            await UnsubscribeUpstreamAsync(uris.GetRange(0, subscribed));
            throw;
        }
    }

    private async Task UnsubscribeUpstreamAsync(List<string> uris)
    {
        try
        {
            if (connection.Session?.Listen is { } listen)
            {
                await listen.RenewAsync(CancellationToken.None);
                return;
            }
            foreach (var uri in uris)
                await connection.SendAsync(RequestMethods.ResourcesUnsubscribe, new JsonObject { ["uri"] = uri }, null, CancellationToken.None);
        }
        catch (Exception ex) when (ex is McpProtocolException or UpstreamException or OperationCanceledException)
        {
            LogUnsubscribeFailed(logger, connection.Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not unsubscribe MCP server {McpName} from a resource no one holds: {Error}")]
    private static partial void LogUnsubscribeFailed(ILogger logger, string mcpName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe the new session of MCP server {McpName} to a held resource again: {Error}")]
    private static partial void LogRestoreFailed(ILogger logger, string mcpName, string error);
}
