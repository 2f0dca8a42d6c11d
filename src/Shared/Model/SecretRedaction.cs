namespace McpServerless.Model;

/// <summary>
/// Secrets (auth tokens, header values, environment values) never leave the gateway: responses carry
/// <see cref="Mask"/> in their place. A client that sends a read definition back unchanged keeps the
/// stored secrets, because <see cref="RestoreMasked"/> puts them back wherever the mask stands.
/// </summary>
public static class SecretRedaction
{
    public const string Mask = "***";

    public static McpDefinition Redact(this McpDefinition definition) => definition with
    {
        AuthTokens = definition.AuthTokens?.Select(_ => Mask).ToArray(),
        Headers = MaskValues(definition.Headers),
        Env = MaskValues(definition.Env),
    };

    /// <summary>Replaces masked values in <paramref name="incoming"/> with the ones stored in <paramref name="stored"/>.</summary>
    public static McpDefinition RestoreMasked(this McpDefinition incoming, McpDefinition stored) => incoming with
    {
        AuthTokens = incoming.AuthTokens is { } tokens && stored.AuthTokens is { } storedTokens && tokens.Count == storedTokens.Count
            ? [.. tokens.Select((t, i) => t == Mask ? storedTokens[i] : t)]
            : incoming.AuthTokens,
        Headers = RestoreValues(incoming.Headers, stored.Headers),
        Env = RestoreValues(incoming.Env, stored.Env),
    };

    private static Dictionary<string, string>? MaskValues(IReadOnlyDictionary<string, string>? map) =>
        map?.ToDictionary(p => p.Key, _ => Mask, StringComparer.Ordinal);

    private static IReadOnlyDictionary<string, string>? RestoreValues(IReadOnlyDictionary<string, string>? incoming, IReadOnlyDictionary<string, string>? stored) =>
        incoming is null || stored is null
            ? incoming
            : incoming.ToDictionary(p => p.Key, p => p.Value == Mask && stored.TryGetValue(p.Key, out var kept) ? kept : p.Value, StringComparer.Ordinal);
}
