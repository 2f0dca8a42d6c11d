using System.Text.Json.Serialization;

namespace McpServerless.ChangeFeed;

[JsonConverter(typeof(JsonStringEnumConverter<RegistryChangeKind>))]
public enum RegistryChangeKind
{
    /// <summary>The definition was added or replaced.</summary>
    [JsonStringEnumMemberName("upserted")] Upserted,

    [JsonStringEnumMemberName("deleted")] Deleted,

    /// <summary>Not about one entry: notices may have been missed, so receivers re-read the whole store.</summary>
    [JsonStringEnumMemberName("resync")] Resync,
}

/// <summary>
/// A notice that one registry entry changed. It carries no definition (and so no secrets):
/// receivers read the store, which makes a lost, repeated or reordered notice harmless.
/// </summary>
public sealed record RegistryChange(string Name, RegistryChangeKind Kind, string? Version)
{
    /// <summary>
    /// Raised by a feed itself, never published: it may have missed notices (it could not receive for a while,
    /// or its subscription was made anew), so every entry is to be read again from the store.
    /// </summary>
    public static RegistryChange Resync { get; } = new("", RegistryChangeKind.Resync, null);
}

/// <summary>Tells every gateway instance that the registry changed.</summary>
public interface IRegistryChangeFeed
{
    ValueTask PublishAsync(RegistryChange change, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls <paramref name="handler"/> for every change published from now until the returned
    /// subscription is disposed. Handlers should be quick: they run on the feed's delivery path.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(Func<RegistryChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default);
}
