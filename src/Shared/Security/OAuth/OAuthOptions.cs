using System.Net;

namespace McpServerless.Security.OAuth;

/// <summary>
/// <c>McpProxy:OAuth</c>: the gateway as an OAuth 2.1 resource server (MCP authorization, RFC 9728, RFC 8707). Setting
/// <see cref="Authority"/> turns it on; then every MCP endpoint wants a valid token — a JWT access token from that
/// issuer, or a static token where static tokens are configured — and the admin API also takes tokens carrying
/// <see cref="AdminScopes"/> or <see cref="AdminRoles"/>.
/// </summary>
public sealed class OAuthOptions
{
    /// <summary>
    /// The issuer (<c>https://login.microsoftonline.com/{tenant}/v2.0</c>); its metadata is found by OpenID Connect
    /// discovery or, failing that, RFC 8414. <c>http://</c> is accepted only for a loopback host.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>
    /// The audiences a token may name. Empty: the canonical URI of the endpoint called or of the gateway itself (from
    /// <c>BaseUrl</c>, else the request's trusted host), which is what RFC 8707 clients ask for. Entra ID v2 tokens
    /// name the app's client id, so list it (and the app ID URI) there.
    /// </summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>Scopes a token needs on an MCP server without <c>requiredScopes</c>/<c>requiredRoles</c> of its own, and on the aggregated endpoint.</summary>
    public List<string> RequiredScopes { get; set; } = [];

    /// <summary>App roles, any one of which admits a token where <see cref="RequiredScopes"/> apply (app-only tokens carry roles, not scopes).</summary>
    public List<string> RequiredRoles { get; set; } = [];

    /// <summary>Scopes that make a token an admin token. With neither these nor <see cref="AdminRoles"/>, tokens never open the admin API.</summary>
    public List<string> AdminScopes { get; set; } = [];

    /// <summary>App roles, any one of which makes a token an admin token.</summary>
    public List<string> AdminRoles { get; set; } = [];

    /// <summary>Leeway for the token's lifetime against this machine's clock.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>Whether tokens may open the admin API: OAuth is on and an admin scope or role is named.</summary>
    public bool AdminEnabled => IsEnabled && (AdminScopes.Count > 0 || AdminRoles.Count > 0);

    /// <summary>True for a URI whose host is a loopback name or address, where plain HTTP cannot be intercepted off the machine.</summary>
    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address));

    internal void Validate(List<string> failures, string prefix, string? baseUrl, string listenHost)
    {
        prefix += ":OAuth";
        if (!IsEnabled)
        {
            if (Audiences.Count + RequiredScopes.Count + RequiredRoles.Count + AdminScopes.Count + AdminRoles.Count > 0)
                failures.Add($"{prefix} names audiences, scopes or roles but no Authority; set {prefix}:Authority to turn OAuth on.");
            return;
        }
        if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("http" or "https")
            || authority.Query.Length > 0 || authority.Fragment.Length > 0 || authority.UserInfo.Length > 0)
            failures.Add($"{prefix}:Authority '{Authority}' must be an absolute https URL without query or fragment.");
        else if (authority.Scheme == "http" && !IsLoopback(authority))
            failures.Add($"{prefix}:Authority '{Authority}' must use https; http is accepted only on loopback addresses.");

        for (var i = 0; i < Audiences.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Audiences[i]) || Audiences[i].Any(char.IsWhiteSpace))
                failures.Add($"{prefix}:Audiences:{i} must be a non-empty value without white space.");
        }
        CheckScopeTokens(failures, $"{prefix}:RequiredScopes", RequiredScopes);
        CheckScopeTokens(failures, $"{prefix}:RequiredRoles", RequiredRoles);
        CheckScopeTokens(failures, $"{prefix}:AdminScopes", AdminScopes);
        CheckScopeTokens(failures, $"{prefix}:AdminRoles", AdminRoles);
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(5))
            failures.Add($"{prefix}:ClockSkew must be between 0 and 5 minutes.");

        // Without either, the audience would come from the request's Host, which a gateway open to every host cannot trust.
        if (Audiences.Count == 0 && string.IsNullOrEmpty(baseUrl) && !IsLoopbackListener(listenHost))
            failures.Add($"{prefix} needs {prefix}:Audiences or McpProxy:BaseUrl (the public URL the resource URIs derive from) when the gateway listens beyond loopback.");
    }

    /// <summary>RFC 6749 scope tokens: printable ASCII without space, <c>"</c> or <c>\</c>, so they fit a challenge header unescaped.</summary>
    public static bool IsScopeToken(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 256 && value.All(c => c is >= '!' and <= '~' and not '"' and not '\\');

    internal static void CheckScopeTokens(List<string> failures, string key, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!IsScopeToken(values[i]))
                failures.Add($"{key}:{i} must be a scope token: printable ASCII without spaces, quotes or backslashes.");
        }
    }

    private static bool IsLoopbackListener(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
