namespace McpServerless.Model;

/// <summary>A <see cref="ToolFilter"/> ready to answer, per tool name, whether the gateway exposes it.</summary>
public sealed class ToolFilterMatcher
{
    private readonly string[] _allow;
    private readonly string[] _deny;

    public ToolFilterMatcher(ToolFilter? filter)
    {
        _allow = [.. filter?.Allow ?? []];
        _deny = [.. filter?.Deny ?? []];
    }

    public static ToolFilterMatcher AllowAll { get; } = new(null);

    public bool Allows(string toolName) =>
        (_allow.Length == 0 || _allow.Any(p => GlobMatches(p, toolName))) && !_deny.Any(p => GlobMatches(p, toolName));

    /// <summary>Glob match where <c>*</c> is any run of characters and <c>?</c> one; case-sensitive like MCP tool names.</summary>
    public static bool GlobMatches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
