using System.Security.Cryptography;
using System.Text;

namespace McpServerless.Security;

/// <summary>
/// Bearer tokens compared in constant time: every candidate is hashed to a fixed length and compared
/// with every stored hash, so neither the length nor the first differing character of a guess shows
/// in the response time.
/// </summary>
public sealed class TokenSet
{
    private readonly byte[][] _hashes;

    private TokenSet(byte[][] hashes) => _hashes = hashes;

    public static TokenSet Empty { get; } = new([]);

    public bool IsEmpty => _hashes.Length == 0;

    public static TokenSet Create(IEnumerable<string>? tokens) =>
        tokens is null ? Empty : new([.. tokens.Where(t => t.Length > 0).Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t)))]);

    public static TokenSet Union(TokenSet first, TokenSet second) =>
        first.IsEmpty ? second : second.IsEmpty ? first : new([.. first._hashes, .. second._hashes]);

    /// <summary>
    /// The whole SHA-256 of a token, hex-encoded: names a caller (a session's owner, a rate-limit partition) without
    /// keeping the token itself. Null for no token. For display use the shorter <see cref="Fingerprint"/>.
    /// </summary>
    public static string? CallerKey(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty) return null;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        return Convert.ToHexStringLower(hash);
    }

    public bool Matches(ReadOnlySpan<char> candidate)
    {
        // An empty set has no secret whose length or prefix timing could show: nothing to hash.
        if (candidate.IsEmpty || _hashes.Length == 0) return false;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(candidate, hash);

        var matched = false;
        foreach (var stored in _hashes)
        {
            matched |= CryptographicOperations.FixedTimeEquals(stored, hash);
        }
        return matched;
    }

    /// <summary>
    /// Names a token without revealing it: the first 8 hex digits of its SHA-256, the hash it is compared by
    /// (<c>printf %s "$TOKEN" | sha256sum | cut -c1-8</c> gives the same).
    /// </summary>
    public static string Fingerprint(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        return Convert.ToHexStringLower(hash[..4]);
    }

    private static void Hash(ReadOnlySpan<char> token, Span<byte> hash)
    {
        Span<byte> utf8 = token.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(token.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(token.Length)];
        var written = Encoding.UTF8.GetBytes(token, utf8);
        SHA256.HashData(utf8[..written], hash);
    }
}
