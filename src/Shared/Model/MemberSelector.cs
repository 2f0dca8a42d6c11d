namespace McpServerless.Model;

/// <summary>
/// One member selector of a virtual server, <c>server:pattern</c>: a server's exact name, a colon, then a tool or
/// prompt name or a resource URI, where <c>*</c> and <c>?</c> glob as in a tool filter. The first colon separates,
/// since server names have none and URIs do.
/// </summary>
public sealed class MemberSelector
{
    public const char Separator = ':';

    private MemberSelector(string server, string pattern)
    {
        Server = server;
        Pattern = pattern;
        IsGlob = pattern.AsSpan().IndexOfAny('*', '?') >= 0;
    }

    public string Server { get; }

    public string Pattern { get; }

    public bool IsGlob { get; }

    /// <summary>Splits <paramref name="text"/> at its first colon; false when either side would be empty.</summary>
    public static bool TryParse(string? text, out MemberSelector selector)
    {
        var colon = text?.IndexOf(Separator) ?? -1;
        if (colon <= 0 || colon == text!.Length - 1)
        {
            selector = null!;
            return false;
        }
        selector = new MemberSelector(text[..colon], text[(colon + 1)..]);
        return true;
    }

    /// <summary>Whether this selector takes <paramref name="name"/> of its own server.</summary>
    public bool Matches(string name) => IsGlob ? ToolFilterMatcher.GlobMatches(Pattern, name) : Pattern == name;

    public override string ToString() => $"{Server}{Separator}{Pattern}";
}
