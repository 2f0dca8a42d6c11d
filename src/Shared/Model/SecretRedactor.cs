namespace McpServerless.Model;

/// <summary>
/// Removes a definition's secrets — its header and environment values, its <c>upstreamAuth</c> client secret, and the credential part of a
/// <c>Scheme credential</c> header value — from error texts, because an upstream may echo what it was sent
/// (a 401 body quoting the key, a stderr line printing the environment). Values shorter than
/// <see cref="MinLength"/> characters are no secrets worth the name, and replacing them would garble every message.
/// </summary>
public sealed class SecretRedactor
{
    public const int MinLength = 4;

    private readonly string[] _secrets;

    private SecretRedactor(string[] secrets) => _secrets = secrets;

    public static SecretRedactor None { get; } = new([]);

    public static SecretRedactor For(McpDefinition definition)
    {
        var values = (definition.Headers?.Values ?? []).Concat(definition.Env?.Values ?? [])
            .Concat(definition.UpstreamAuth?.ClientSecret is { } clientSecret ? [clientSecret] : []);
        var secrets = values.Concat(values.Select(v => v.Trim()).Where(v => v.Contains(' ')).Select(v => v[(v.LastIndexOf(' ') + 1)..]))
            .Where(v => v.Length >= MinLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length) // a value that contains another goes first
            .ToArray();
        return secrets.Length == 0 ? None : new(secrets);
    }

    public bool IsEmpty => _secrets.Length == 0;

    /// <summary>The text with every secret replaced by <see cref="SecretRedaction.Mask"/>.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, SecretRedaction.Mask, StringComparison.Ordinal);
        }
        return text;
    }

    public bool Reveals(string text) => _secrets.Any(s => text.Contains(s, StringComparison.Ordinal));
}
