namespace McpServerless.Storage;

/// <summary>Base of the registry's expected failures; each maps to one HTTP status on the admin API.</summary>
public abstract class McpStoreException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class McpNotFoundException(string name)
    : McpStoreException($"No MCP server named '{name}' is registered.")
{
    public string Name { get; } = name;
}

public sealed class McpAlreadyExistsException(string name)
    : McpStoreException($"An MCP server named '{name}' is already registered.")
{
    public string Name { get; } = name;
}

public sealed class McpVersionConflictException(string name)
    : McpStoreException($"MCP server '{name}' was changed by another writer; read it again and retry.")
{
    public string Name { get; } = name;
}

/// <summary>The backend could not be reached or did not answer in time; nothing was written.</summary>
public sealed class McpStoreUnavailableException(string message, Exception? inner = null)
    : McpStoreException(message, inner);
