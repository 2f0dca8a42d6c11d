using System.Text.RegularExpressions;
using McpServerless.Model;
using McpServerless.Security;

namespace McpServerless.Validation;

/// <summary>
/// Checks a definition and reports every problem at once, keyed by the JSON field name, so a
/// client can fix a request in one round trip.
/// </summary>
public static partial class McpDefinitionValidator
{
    /// <summary>Path segments the gateway uses itself, so no server may take them as its name.</summary>
    public static readonly IReadOnlySet<string> ReservedNames =
        new HashSet<string>(["admin", "healthz", "metrics", "mcp", "sse", "stream", "message", "messages", "ui"], StringComparer.OrdinalIgnoreCase);

    public const int MaxDescriptionLength = 1024;
    public const int MaxListEntries = 256;
    public const int MaxValueLength = 8192;
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);
    public static readonly TimeSpan MinHealthCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Bounds of <c>maxResponseBytes</c>: 1 KiB to 128 MiB (one JSON string the gateway can still write downstream).</summary>
    public const long MinResponseBytes = 1024, MaxResponseBytes = 128 * 1024 * 1024;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex NamePattern();

    // RFC 9110 token characters.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderNamePattern();

    public static bool IsValidName(string? name) =>
        name is not null && NamePattern().IsMatch(name) && !ReservedNames.Contains(name);

    public static Dictionary<string, string[]> Validate(McpDefinition definition)
    {
        var errors = new FieldErrors();

        CheckNameAndDescription(errors, definition.Name, definition.Description);

        switch (definition.Transport)
        {
            case McpTransport.Stdio:
                if (string.IsNullOrWhiteSpace(definition.Command))
                    errors.Add("command", "A command is required for the stdio transport.");
                break;
            case McpTransport.Sse or McpTransport.StreamableHttp:
                if (string.IsNullOrWhiteSpace(definition.Url))
                    errors.Add("url", "A URL is required for the sse and streamable-http transports.");
                else if (!Uri.TryCreate(definition.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    errors.Add("url", "The URL must be an absolute http or https URL.");
                break;
            default:
                errors.Add("transport", "The transport must be 'stdio', 'sse' or 'streamable-http'.");
                break;
        }

        errors.CheckLength("command", definition.Command);
        errors.CheckList("args", definition.Args, allowEmpty: true);
        CheckMap(errors, "env", definition.Env, static key => key.Length > 0 && !key.Contains('=') && !key.Contains('\0'),
            "Environment variable names must be non-empty and contain no '=' or NUL.");
        CheckMap(errors, "headers", definition.Headers, static key => HeaderNamePattern().IsMatch(key),
            "Header names must be HTTP tokens.");

        CheckDuration(errors, "timeout", definition.Timeout, MinDuration);
        CheckDuration(errors, "reconnectDelay", definition.ReconnectDelay, MinDuration);
        CheckDuration(errors, "healthCheckInterval", definition.HealthCheckInterval, MinHealthCheckInterval);
        if (definition.ToolsCacheTtl is { } ttl && (ttl < TimeSpan.Zero || ttl > MaxDuration))
            errors.Add("toolsCacheTtl", $"toolsCacheTtl must be between 0 and {Serialization.GoDuration.Format(MaxDuration)}.");
        if (definition.ProtocolVersion is { } version && !McpRevisions.Known.Contains(version))
            errors.Add("protocolVersion", $"protocolVersion must be one of {string.Join(", ", McpRevisions.Known)}, or left out to negotiate the newest both sides support.");
        if (definition.MaxResponseBytes is < MinResponseBytes or > MaxResponseBytes)
            errors.Add("maxResponseBytes", $"maxResponseBytes must be between {MinResponseBytes} and {MaxResponseBytes}.");
        if (definition.MaxReconnects is < 0 or > 10_000)
            errors.Add("maxReconnects", "maxReconnects must be between 0 (unlimited) and 10000.");

        errors.CheckNoMask("headers", definition.Headers?.Values);
        errors.CheckNoMask("env", definition.Env?.Values);
        CheckAccessRules(errors, definition);
        if (definition.UpstreamAuth is { } upstreamAuth)
            CheckUpstreamAuth(errors, definition, upstreamAuth);

        if (definition.ToolFilter is { } filter)
        {
            errors.CheckList("toolFilter.allow", filter.Allow, allowEmpty: false);
            errors.CheckList("toolFilter.deny", filter.Deny, allowEmpty: false);
        }

        return errors.ToDictionary();
    }

    private static void CheckScopes(FieldErrors errors, string field, IReadOnlyList<string>? values)
    {
        errors.CheckList(field, values, allowEmpty: false);
        if (values?.Any(v => v is not null && !Security.OAuth.OAuthOptions.IsScopeToken(v)) == true)
            errors.Add(field, $"{field} entries must be scope tokens: printable ASCII without spaces, quotes or backslashes, 256 characters at most.");
    }

    private static void CheckUpstreamAuth(FieldErrors errors, McpDefinition definition, UpstreamAuth auth)
    {
        if (definition.Transport is not (McpTransport.Sse or McpTransport.StreamableHttp))
            errors.Add("upstreamAuth", "upstreamAuth applies to sse and streamable-http servers only.");
        if (definition.Headers?.Keys.Any(k => k.Equals("Authorization", StringComparison.OrdinalIgnoreCase)) == true)
            errors.Add("upstreamAuth", "upstreamAuth sets the Authorization header; remove it from headers.");
        foreach (var (field, value) in new[] { ("scope", auth.Scope), ("clientId", auth.ClientId), ("clientSecret", auth.ClientSecret), ("tokenUrl", auth.TokenUrl), ("resource", auth.Resource) })
        {
            if (value is not null && (value.Length > MaxValueLength || value.Any(char.IsControl)))
                errors.Add($"upstreamAuth.{field}", $"upstreamAuth.{field} may have {MaxValueLength} characters at most and no control characters.");
        }

        switch (auth.Kind)
        {
            case UpstreamAuthKind.ManagedIdentity:
                if (string.IsNullOrWhiteSpace(auth.Scope) || auth.Scope.Contains(' '))
                    errors.Add("upstreamAuth.scope", "A managed identity needs the one scope to ask Entra ID for, such as 'api://…/.default'.");
                if (auth.ClientSecret is not null || auth.TokenUrl is not null || auth.Resource is not null)
                    errors.Add("upstreamAuth", "clientSecret, tokenUrl and resource belong to kind 'clientCredentials'; a managed identity takes scope and, optionally, clientId.");
                break;
            case UpstreamAuthKind.ClientCredentials:
                if (string.IsNullOrWhiteSpace(auth.TokenUrl))
                    errors.Add("upstreamAuth.tokenUrl", "The token endpoint is required for client credentials.");
                else if (!Uri.TryCreate(auth.TokenUrl, UriKind.Absolute, out var tokenUrl) || tokenUrl.Scheme is not ("http" or "https"))
                    errors.Add("upstreamAuth.tokenUrl", "The token endpoint must be an absolute https URL.");
                else if (tokenUrl.Scheme == "http" && !Security.OAuth.OAuthOptions.IsLoopback(tokenUrl))
                    errors.Add("upstreamAuth.tokenUrl", "The token endpoint must use https; http is accepted only on loopback addresses (the secret would travel in clear).");
                if (string.IsNullOrWhiteSpace(auth.ClientId))
                    errors.Add("upstreamAuth.clientId", "The client id is required for client credentials.");
                if (string.IsNullOrEmpty(auth.ClientSecret))
                    errors.Add("upstreamAuth.clientSecret", "The client secret is required for client credentials.");
                else if (auth.ClientSecret == SecretRedaction.Mask)
                    errors.Add("upstreamAuth.clientSecret", $"'{SecretRedaction.Mask}' stands for the stored secret only when one is stored; enter the secret.");
                if (auth.Scope is not null && auth.Scope.Split(' ').Any(s => !Security.OAuth.OAuthOptions.IsScopeToken(s)))
                    errors.Add("upstreamAuth.scope", "The scope must be space-separated scope tokens.");
                if (auth.Resource is not null && !Uri.TryCreate(auth.Resource, UriKind.Absolute, out _))
                    errors.Add("upstreamAuth.resource", "The resource must be an absolute URI.");
                break;
            default:
                errors.Add("upstreamAuth.kind", "The kind must be 'managedIdentity' or 'clientCredentials'.");
                break;
        }
    }

    /// <summary>The rules a server and a virtual server share for their name (one namespace) and description.</summary>
    internal static void CheckNameAndDescription(FieldErrors errors, string? name, string? description)
    {
        if (string.IsNullOrEmpty(name))
            errors.Add("name", "The name is required.");
        else if (!NamePattern().IsMatch(name))
            errors.Add("name", "The name must start with a letter or digit and contain only letters, digits, '_' and '-' (64 characters at most).");
        else if (ReservedNames.Contains(name))
            errors.Add("name", $"'{name}' is reserved by the gateway.");

        if (description?.Length > MaxDescriptionLength)
            errors.Add("description", $"The description may have {MaxDescriptionLength} characters at most.");
    }

    /// <summary>The access rules a server and a virtual server share: <c>authTokens</c>, <c>allowedIPs</c>, <c>requiredScopes</c> and <c>requiredRoles</c>.</summary>
    internal static void CheckAccessRules(FieldErrors errors, IAccessControlled definition)
    {
        var authTokens = definition.AuthTokens;
        errors.CheckNoMask("authTokens", authTokens);
        errors.CheckList("authTokens", authTokens, allowEmpty: false);
        if (authTokens?.Any(t => t.Any(char.IsWhiteSpace)) == true)
            errors.Add("authTokens", "Tokens may not contain white space.");
        // Left after restoring stored tokens, the mask would become a token anyone can guess.
        if (authTokens?.Contains(SecretRedaction.Mask) == true)
            errors.Add("authTokens", $"'{SecretRedaction.Mask}' stands for a stored token only in a list of the stored length; enter every token again to remove one.");
        if (definition.AllowedIps is { } allowedIps)
        {
            errors.CheckList("allowedIPs", allowedIps, allowEmpty: false);
            foreach (var entry in allowedIps.Where(e => !IpAllowList.TryParseEntry(e, out _)).Take(5))
                errors.Add("allowedIPs", $"'{FieldErrors.Truncate(entry)}' is not an IP address or CIDR range.");
        }
        CheckScopes(errors, "requiredScopes", definition.RequiredScopes);
        CheckScopes(errors, "requiredRoles", definition.RequiredRoles);
    }

    private static void CheckDuration(FieldErrors errors, string field, TimeSpan? value, TimeSpan minimum)
    {
        if (value is not { } duration) return;
        if (duration <= TimeSpan.Zero)
            errors.Add(field, $"{field} must be positive.");
        else if (duration < minimum)
            errors.Add(field, $"{field} must be at least {Serialization.GoDuration.Format(minimum)}.");
        else if (duration > MaxDuration)
            errors.Add(field, $"{field} may be {Serialization.GoDuration.Format(MaxDuration)} at most.");
    }

    private static void CheckMap(FieldErrors errors, string field, IReadOnlyDictionary<string, string>? map, Func<string, bool> isValidKey, string keyMessage)
    {
        if (map is null) return;
        if (map.Count > MaxListEntries)
            errors.Add(field, $"{field} may have {MaxListEntries} entries at most.");
        if (map.Keys.Any(k => !isValidKey(k)))
            errors.Add(field, keyMessage);
        if (map.Values.Any(v => v is null || v.Length > MaxValueLength || v.Contains('\r') || v.Contains('\n') || v.Contains('\0')))
            errors.Add(field, $"{field} values must be present, {MaxValueLength} characters at most, with no CR, LF or NUL.");
    }
}
