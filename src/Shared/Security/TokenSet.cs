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
    /// A SHA-256 of a token, hex-encoded: names a caller (a session's owner, a rate-limit partition) without
    /// keeping or logging the token itself. Null for no token.
    /// </summary>
    public static string? Fingerprint(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty) return null;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token.ToString()), hash);
        return Convert.ToHexStringLower(hash);
    }

    public bool Matches(ReadOnlySpan<char> candidate)
    {
        if (candidate.IsEmpty) return false;
        Span<byte> utf8 = candidate.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(candidate.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(candidate.Length)];
        var written = Encoding.UTF8.GetBytes(candidate, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], hash);

        var matched = false;
        foreach (var stored in _hashes)
        {
            matched |= CryptographicOperations.FixedTimeEquals(stored, hash);
        }
        return matched;
    }
}
