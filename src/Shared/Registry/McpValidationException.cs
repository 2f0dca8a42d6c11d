namespace McpServerless.Registry;

/// <summary>A definition was rejected; <see cref="Errors"/> lists every problem by JSON field.</summary>
public sealed class McpValidationException(IReadOnlyDictionary<string, string[]> errors)
    : Exception("The MCP definition is invalid.")
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
