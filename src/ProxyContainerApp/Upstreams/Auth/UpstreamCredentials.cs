using System.Collections.Concurrent;
using McpServerless.Model;

namespace McpServerless.Proxy.Upstreams.Auth;

/// <summary>
/// The token sources of the registered upstreams, one per server and <c>upstreamAuth</c>, so a server's shared and
/// isolated connections, and its reconnects, share one cached token; a changed <c>upstreamAuth</c> gets a new source.
/// </summary>
public sealed class UpstreamCredentials(TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, (UpstreamAuth Auth, UpstreamTokenSource Source)> _sources = new(StringComparer.Ordinal);
    private readonly HttpClient _tokenEndpoints = new() { Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = 1024 * 1024 };

    /// <summary>The token source of <paramref name="definition"/>, or null when it has no <c>upstreamAuth</c>.</summary>
    public UpstreamTokenSource? For(McpDefinition definition)
    {
        if (definition.UpstreamAuth is not { } auth)
        {
            _sources.TryRemove(definition.Name, out _);
            return null;
        }
        return _sources.AddOrUpdate(definition.Name,
            _ => (auth, Create(auth)),
            (_, existing) => existing.Auth == auth ? existing : (auth, Create(auth))).Source;
    }

    public void Forget(string name) => _sources.TryRemove(name, out _);

    public void Dispose() => _tokenEndpoints.Dispose();

    private UpstreamTokenSource Create(UpstreamAuth auth) => auth.Kind switch
    {
        UpstreamAuthKind.ClientCredentials => new ClientCredentialsTokenSource(auth, _tokenEndpoints, time),
        UpstreamAuthKind.ManagedIdentity => new ManagedIdentityTokenSource(auth, time),
        _ => throw new InvalidOperationException($"Unknown upstreamAuth kind {auth.Kind}."),
    };
}
