namespace McpServerless.Registry;

/// <summary>A definition was rejected; <see cref="Errors"/> lists every problem by JSON field.</summary>
/// <param name="message">What was rejected; the admin API's problem title.</param>
public sealed class McpValidationException(IReadOnlyDictionary<string, string[]> errors, string message = McpValidationException.InvalidServer)
    : Exception(message)
{
    public const string InvalidServer = "The MCP definition is invalid.";
    public const string InvalidVirtualServer = "The virtual server definition is invalid.";

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
