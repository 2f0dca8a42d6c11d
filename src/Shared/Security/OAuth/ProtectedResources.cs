using McpServerless.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace McpServerless.Security.OAuth;

/// <summary>
/// The gateway's resource identifiers (RFC 8707, MCP "canonical server URI"): the canonical URI of an endpoint is the
/// gateway's base — <c>McpProxy:BaseUrl</c>, else the scheme, host and path base the request came to — followed by the
/// endpoint's path (<c>https://gw.example.com/docs/stream</c>); the base alone names the gateway (its admin API, and
/// every endpoint at once). The protected resource metadata of a resource sits at the base followed by
/// <see cref="MetadataPath"/> and the endpoint's path, and also, as RFC 9728 §3.1 builds it, at the host's root
/// followed by the well-known path and the resource's whole path.
/// </summary>
public sealed class ProtectedResources(IOptions<McpProxyOptions> options, FrontDoorPolicy frontDoor)
{
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    private readonly string? _baseUrl = options.Value.BaseUrl is { Length: > 0 } url ? Canonical(new Uri(url)) : null;

    /// <summary>The path of <see cref="McpProxyOptions.BaseUrl"/> (<c>/gateway</c>), empty without one.</summary>
    public string BasePath { get; } = options.Value.BaseUrl is { Length: > 0 } url ? new Uri(url).AbsolutePath.TrimEnd('/') : "";

    /// <summary>
    /// The gateway's canonical URI as this request reaches it, and whether it may stand for an audience: always with
    /// <c>BaseUrl</c>; without it only for a host the gateway names outright (a loopback name or an
    /// <c>AllowedHosts</c> entry), since the wildcard host of a gateway open to every name is whatever the caller wrote.
    /// </summary>
    public (string Uri, bool Trusted) BaseOf(HttpRequest request)
    {
        if (_baseUrl is not null) return (_baseUrl, true);
        var host = request.Host.Value ?? "";
        var origin = $"{request.Scheme}://{host}".ToLowerInvariant();
        return (origin + request.PathBase.Value?.TrimEnd('/'), frontDoor.IsTrustedHost(host));
    }

    /// <summary>The canonical URI of <paramref name="resourcePath"/> (<c>/docs/stream</c>; empty for the gateway itself).</summary>
    public string ResourceUri(HttpRequest request, string resourcePath) => BaseOf(request).Uri + resourcePath;

    /// <summary>Where the metadata of <paramref name="resourcePath"/> is served, for the <c>resource_metadata</c> of a challenge.</summary>
    public string MetadataUri(HttpRequest request, string resourcePath) => BaseOf(request).Uri + MetadataPath + resourcePath;

    /// <summary>
    /// Whether <paramref name="audience"/> names this gateway for a request on <paramref name="resourcePath"/>: the
    /// endpoint's own URI or the gateway's, from a trusted base. A token a client obtained for another resource — another
    /// server, or another name of this host that the gateway does not answer to by name — is not accepted.
    /// </summary>
    public bool IsAudience(string audience, HttpRequest request, string resourcePath)
    {
        var (baseUri, trusted) = BaseOf(request);
        if (!trusted) return false;
        var candidate = audience.AsSpan().TrimEnd('/');
        return candidate.Equals(baseUri, StringComparison.OrdinalIgnoreCase)
            || (resourcePath.Length > 0 && candidate.Length == baseUri.Length + resourcePath.Length
                && candidate.StartsWith(baseUri, StringComparison.OrdinalIgnoreCase)
                && candidate[baseUri.Length..].Equals(resourcePath, StringComparison.Ordinal));
    }

    /// <summary>
    /// The resource path an MCP request addresses: its path without a trailing slash, with a legacy SSE
    /// <c>…/message</c> post counted as the <c>…/sse</c> stream it belongs to. <c>/</c> (the aggregated alias) is the
    /// gateway itself.
    /// </summary>
    public static string McpResourcePath(PathString path)
    {
        var value = path.Value.AsSpan().TrimEnd('/');
        const string message = "/message";
        return value.EndsWith(message, StringComparison.Ordinal) ? string.Concat(value[..^message.Length], "/sse") : value.ToString();
    }

    /// <summary>
    /// The resource path a metadata request names after the well-known prefix: <c>/docs/stream</c> both from
    /// <c>{base}/.well-known/oauth-protected-resource/docs/stream</c> and from the RFC 9728 form, which puts the base's
    /// path after the prefix (<c>/.well-known/oauth-protected-resource/gateway/docs/stream</c>).
    /// </summary>
    public string ResourcePathOfMetadataRequest(string? suffix)
    {
        var path = "/" + (suffix ?? "").Trim('/');
        if (BasePath.Length > 0 && path.StartsWith(BasePath, StringComparison.OrdinalIgnoreCase)
            && (path.Length == BasePath.Length || path[BasePath.Length] == '/'))
            path = path[BasePath.Length..];
        return path.TrimEnd('/');
    }

    // Lower-case scheme and host, no trailing slash, no query or fragment: the form RFC 8707 clients send.
    private static string Canonical(Uri uri) =>
        (uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant() + uri.AbsolutePath).TrimEnd('/');
}
