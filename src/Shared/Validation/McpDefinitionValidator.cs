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
        var errors = new Errors();

        if (string.IsNullOrEmpty(definition.Name))
            errors.Add("name", "The name is required.");
        else if (!NamePattern().IsMatch(definition.Name))
            errors.Add("name", "The name must start with a letter or digit and contain only letters, digits, '_' and '-' (64 characters at most).");
        else if (ReservedNames.Contains(definition.Name))
            errors.Add("name", $"'{definition.Name}' is reserved by the gateway.");

        if (definition.Description?.Length > MaxDescriptionLength)
            errors.Add("description", $"The description may have {MaxDescriptionLength} characters at most.");

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

        CheckLength(errors, "command", definition.Command);
        CheckList(errors, "args", definition.Args, allowEmpty: true);
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

        CheckNoMask(errors, "authTokens", definition.AuthTokens);
        CheckNoMask(errors, "headers", definition.Headers?.Values);
        CheckNoMask(errors, "env", definition.Env?.Values);

        CheckList(errors, "authTokens", definition.AuthTokens, allowEmpty: false);
        if (definition.AuthTokens?.Any(t => t.Any(char.IsWhiteSpace)) == true)
            errors.Add("authTokens", "Tokens may not contain white space.");
        // Left after restoring stored tokens, the mask would become a token anyone can guess.
        if (definition.AuthTokens?.Contains(SecretRedaction.Mask) == true)
            errors.Add("authTokens", $"'{SecretRedaction.Mask}' stands for a stored token only in a list of the stored length; enter every token again to remove one.");
        if (definition.AllowedIps is { } allowed)
        {
            CheckList(errors, "allowedIPs", allowed, allowEmpty: false);
            foreach (var entry in allowed.Where(e => !IpAllowList.TryParseEntry(e, out _)).Take(5))
                errors.Add("allowedIPs", $"'{Truncate(entry)}' is not an IP address or CIDR range.");
        }

        if (definition.ToolFilter is { } filter)
        {
            CheckList(errors, "toolFilter.allow", filter.Allow, allowEmpty: false);
            CheckList(errors, "toolFilter.deny", filter.Deny, allowEmpty: false);
        }

        return errors.ToDictionary();
    }

    private static void CheckDuration(Errors errors, string field, TimeSpan? value, TimeSpan minimum)
    {
        if (value is not { } duration) return;
        if (duration <= TimeSpan.Zero)
            errors.Add(field, $"{field} must be positive.");
        else if (duration < minimum)
            errors.Add(field, $"{field} must be at least {Serialization.GoDuration.Format(minimum)}.");
        else if (duration > MaxDuration)
            errors.Add(field, $"{field} may be {Serialization.GoDuration.Format(MaxDuration)} at most.");
    }

    // A mask left after SecretRedaction.RestoreMasked had no stored secret it stood for exactly; kept, it would become one.
    private static void CheckNoMask(Errors errors, string field, IEnumerable<string>? values)
    {
        if (values?.Contains(SecretRedaction.Mask, StringComparer.Ordinal) == true)
            errors.Add(field, $"'{SecretRedaction.Mask}' stands for a stored secret only when {field} is sent back exactly as read; send the real values instead.");
    }

    private static void CheckLength(Errors errors, string field, string? value)
    {
        if (value?.Length > MaxValueLength)
            errors.Add(field, $"{field} may have {MaxValueLength} characters at most.");
    }

    private static void CheckList(Errors errors, string field, IReadOnlyList<string>? values, bool allowEmpty)
    {
        if (values is null) return;
        if (values.Count > MaxListEntries)
            errors.Add(field, $"{field} may have {MaxListEntries} entries at most.");
        if (values.Any(v => v is null || (!allowEmpty && v.Length == 0) || v.Length > MaxValueLength))
            errors.Add(field, allowEmpty
                ? $"{field} entries may not be null or longer than {MaxValueLength} characters."
                : $"{field} entries must be non-empty and {MaxValueLength} characters at most.");
    }

    private static void CheckMap(Errors errors, string field, IReadOnlyDictionary<string, string>? map, Func<string, bool> isValidKey, string keyMessage)
    {
        if (map is null) return;
        if (map.Count > MaxListEntries)
            errors.Add(field, $"{field} may have {MaxListEntries} entries at most.");
        if (map.Keys.Any(k => !isValidKey(k)))
            errors.Add(field, keyMessage);
        if (map.Values.Any(v => v is null || v.Length > MaxValueLength || v.Contains('\r') || v.Contains('\n') || v.Contains('\0')))
            errors.Add(field, $"{field} values must be present, {MaxValueLength} characters at most, with no CR, LF or NUL.");
    }

    // Entries echo only user-chosen addresses, cut short; secrets never appear in messages.
    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _byField = new(StringComparer.Ordinal);

        public void Add(string field, string message)
        {
            if (!_byField.TryGetValue(field, out var list)) _byField[field] = list = [];
            list.Add(message);
        }

        public Dictionary<string, string[]> ToDictionary() =>
            _byField.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }
}
