using System.Net;
using McpServerless.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace McpServerless.Security;

/// <summary>
/// The Host and Origin rules that keep a web page from driving the gateway through DNS rebinding: a page on
/// <c>evil.example</c> whose name resolves to 127.0.0.1 reaches a loopback gateway with <c>Host: evil.example</c>
/// and, on anything but a plain GET, <c>Origin: http://evil.example</c>.
/// <list type="bullet">
/// <item><see cref="AllowedHosts"/> feeds ASP.NET Core's host filtering: <c>McpProxy:AllowedHosts</c> when set (plus
/// the host of <c>BaseUrl</c>); otherwise <c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>, the listen address and the
/// <c>BaseUrl</c> host, or any host (<c>*</c>) when listening on every interface with no list.</item>
/// <item>A <em>trusted</em> host is one named outright: the loopback names (always), the <c>BaseUrl</c> host and the
/// entries of <c>McpProxy:AllowedHosts</c>, but never the <c>*</c> wildcard. Only trusted hosts make an origin the gateway's
/// own, and the admin API's "no tokens: loopback only" rule also demands one.</item>
/// <item>A request without <c>Origin</c> (every non-browser client) passes. With one, it must be the gateway's own
/// origin — a trusted host with the request's scheme and port, or the <c>BaseUrl</c> origin — or be listed in
/// <c>McpProxy:AllowedOrigins</c>, the origins that also get CORS.</item>
/// </list>
/// </summary>
public sealed class FrontDoorPolicy
{
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    private readonly HashSet<string> _trustedHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _trustedSuffixes = []; // from "*.example.com" entries, as ".example.com"
    private readonly HashSet<string> _listedOrigins = new(StringComparer.OrdinalIgnoreCase);
    private readonly string? _baseOrigin;

    public FrontDoorPolicy(IOptions<McpProxyOptions> options)
    {
        var settings = options.Value;
        var baseHost = settings.BaseUrl is { Length: > 0 } baseUrl ? new Uri(baseUrl) : null;
        _baseOrigin = baseHost is null ? null : Origin(baseHost);

        var hosts = new List<string>();
        if (settings.AllowedHosts.Count > 0)
        {
            hosts.AddRange(settings.AllowedHosts);
        }
        else if (ListensOnEveryInterface(settings.Host))
        {
            HostsUnrestrictedByDefault = true;
            hosts.Add("*");
        }
        else
        {
            hosts.AddRange(LoopbackHosts);
            if (IPAddress.TryParse(settings.Host, out var address) && !IPAddress.IsLoopback(address))
                hosts.Add(new HostString(address.ToString(), 0).Host);
        }
        if (baseHost is not null) hosts.Add(baseHost.Host);
        AllowedHosts = [.. hosts.Distinct(StringComparer.OrdinalIgnoreCase)];

        // A browser names a loopback host only for a page it loaded from one: no rebinding hides behind these names.
        _trustedHosts.UnionWith(LoopbackHosts);
        foreach (var host in AllowedHosts)
        {
            if (host.StartsWith("*.", StringComparison.Ordinal)) _trustedSuffixes.Add(host[1..]);
            else if (host != "*") _trustedHosts.Add(host);
        }
        foreach (var origin in settings.AllowedOrigins) _listedOrigins.Add(Origin(new Uri(origin)));
    }

    /// <summary>Host names (without ports; any port matches) for ASP.NET Core's <c>HostFilteringOptions</c>.</summary>
    public IReadOnlyList<string> AllowedHosts { get; }

    /// <summary>True when no host list is set and the gateway listens on every interface, so any Host is accepted.</summary>
    public bool HostsUnrestrictedByDefault { get; }

    /// <summary>The origins of <c>McpProxy:AllowedOrigins</c>, normalized, for the CORS policy.</summary>
    public IReadOnlyCollection<string> ListedOrigins => _listedOrigins;

    /// <summary>Whether <paramref name="host"/> (a Host header or an origin's host, port ignored) is named outright.</summary>
    public bool IsTrustedHost(string host)
    {
        host = new HostString(host).Host;
        if (_trustedHosts.Contains(host)) return true;
        foreach (var suffix in _trustedSuffixes)
        {
            if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>Whether a request may proceed as far as its <c>Origin</c> header goes: absent, the gateway's own, or listed.</summary>
    public bool IsAllowedOrigin(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderNames.Origin, out var values)) return true;
        // "null" (sandboxed frames, file: pages) and anything that is not one absolute origin is foreign.
        if (values.Count != 1 || !Uri.TryCreate(values[0], UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https"))
            return false;

        var normalized = Origin(origin);
        if (_listedOrigins.Contains(normalized) || string.Equals(normalized, _baseOrigin, StringComparison.OrdinalIgnoreCase)) return true;
        return IsTrustedHost(origin.Authority)
            && string.Equals(origin.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && origin.Port == (request.Host.Port ?? (request.IsHttps ? 443 : 80));
    }

    /// <summary>Whether <paramref name="origin"/> is one absolute http(s) origin: scheme, host and optional port, nothing more.</summary>
    public static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.PathAndQuery == "/" && uri.UserInfo.Length == 0 && uri.Fragment.Length == 0;

    private static bool ListensOnEveryInterface(string host) =>
        host is "*" || (IPAddress.TryParse(host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)));

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);
}
