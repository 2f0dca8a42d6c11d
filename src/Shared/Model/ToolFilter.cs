namespace McpServerless.Model;

/// <summary>
/// Which upstream tools the gateway exposes. Patterns are exact names or globs where
/// <c>*</c> matches any run of characters and <c>?</c> one character (<c>read_*</c>).
/// A tool is exposed when <see cref="Allow"/> is empty or matches it, and <see cref="Deny"/> does not:
/// deny wins over allow.
/// </summary>
public sealed record ToolFilter
{
    public IReadOnlyList<string>? Allow { get; init; }

    public IReadOnlyList<string>? Deny { get; init; }
}
