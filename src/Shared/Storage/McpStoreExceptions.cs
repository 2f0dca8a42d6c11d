using McpServerless.Model;

namespace McpServerless.Storage;

/// <summary>Base of the registry's expected failures; each maps to one HTTP status on the admin API.</summary>
public abstract class McpStoreException(string message, Exception? inner = null) : Exception(message, inner)
{
    private protected static string Noun(RegistryEntryType type) => type == RegistryEntryType.VirtualServer ? "virtual server" : "MCP server";
}

public sealed class McpNotFoundException(string name, RegistryEntryType type = RegistryEntryType.Server)
    : McpStoreException($"No {Noun(type)} named '{name}' is registered.")
{
    public string Name { get; } = name;

    public RegistryEntryType Type { get; } = type;
}

/// <param name="takenBy">What holds the name now.</param>
/// <param name="adding">What was to be added: servers and virtual servers share one namespace.</param>
public sealed class McpAlreadyExistsException(string name, RegistryEntryType takenBy = RegistryEntryType.Server, RegistryEntryType adding = RegistryEntryType.Server)
    : McpStoreException(takenBy == adding
        ? $"{(takenBy == RegistryEntryType.VirtualServer ? "A" : "An")} {Noun(takenBy)} named '{name}' is already registered."
        : $"The name '{name}' is taken by {(takenBy == RegistryEntryType.VirtualServer ? "a" : "an")} {Noun(takenBy)}; servers and virtual servers share one namespace.")
{
    public string Name { get; } = name;

    public RegistryEntryType TakenBy { get; } = takenBy;
}

public sealed class McpVersionConflictException(string name, RegistryEntryType type = RegistryEntryType.Server)
    : McpStoreException($"{(type == RegistryEntryType.VirtualServer ? "Virtual server" : "MCP server")} '{name}' was changed by another writer; read it again and retry.")
{
    public string Name { get; } = name;
}

/// <summary>The backend could not be reached or did not answer in time; nothing was written.</summary>
public sealed class McpStoreUnavailableException(string message, Exception? inner = null)
    : McpStoreException(message, inner);
