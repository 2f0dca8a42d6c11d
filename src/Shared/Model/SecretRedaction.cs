namespace McpServerless.Model;

/// <summary>
/// Secrets (auth tokens, header values, environment values) never leave the gateway: responses carry
/// <see cref="Mask"/> in their place. A client that sends a read definition back unchanged keeps the
/// stored secrets, because <see cref="RestoreMasked"/> puts them back where the mask stands for exactly one:
/// a token list only when it is the masked form of the stored list as a whole (the positions of a shorter or
/// mixed list say nothing about which token each mask meant), a header or variable when its name is stored.
/// Any other mask stays and validation refuses it, so <c>***</c> never becomes a secret. A virtual server's only
/// secrets are its auth tokens, under the same rule.
/// </summary>
public static class SecretRedaction
{
    public const string Mask = "***";

    public static McpDefinition Redact(this McpDefinition definition) => definition with
    {
        AuthTokens = MaskTokens(definition.AuthTokens),
        Headers = MaskValues(definition.Headers),
        Env = MaskValues(definition.Env),
    };

    /// <summary>Replaces masked values in <paramref name="incoming"/> with the ones stored in <paramref name="stored"/>.</summary>
    public static McpDefinition RestoreMasked(this McpDefinition incoming, McpDefinition stored) => incoming with
    {
        AuthTokens = RestoreTokens(incoming.AuthTokens, stored.AuthTokens),
        Headers = RestoreValues(incoming.Headers, stored.Headers),
        Env = RestoreValues(incoming.Env, stored.Env),
    };

    public static VirtualServerDefinition Redact(this VirtualServerDefinition definition) =>
        definition with { AuthTokens = MaskTokens(definition.AuthTokens) };

    /// <summary>Replaces masked tokens in <paramref name="incoming"/> with the ones stored in <paramref name="stored"/>.</summary>
    public static VirtualServerDefinition RestoreMasked(this VirtualServerDefinition incoming, VirtualServerDefinition stored) =>
        incoming with { AuthTokens = RestoreTokens(incoming.AuthTokens, stored.AuthTokens) };

    private static string[]? MaskTokens(IReadOnlyList<string>? tokens) => tokens?.Select(_ => Mask).ToArray();

    private static IReadOnlyList<string>? RestoreTokens(IReadOnlyList<string>? incoming, IReadOnlyList<string>? stored) =>
        incoming is not null && stored is { Count: > 0 } && incoming.Count == stored.Count && incoming.All(t => t == Mask)
            ? stored
            : incoming;

    private static Dictionary<string, string>? MaskValues(IReadOnlyDictionary<string, string>? map) =>
        map?.ToDictionary(p => p.Key, _ => Mask, StringComparer.Ordinal);

    private static IReadOnlyDictionary<string, string>? RestoreValues(IReadOnlyDictionary<string, string>? incoming, IReadOnlyDictionary<string, string>? stored) =>
        incoming is null || stored is null
            ? incoming
            : incoming.ToDictionary(p => p.Key, p => p.Value == Mask && stored.TryGetValue(p.Key, out var kept) ? kept : p.Value, StringComparer.Ordinal);
}
