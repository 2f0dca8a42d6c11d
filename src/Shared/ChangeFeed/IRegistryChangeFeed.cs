using System.Text.Json.Serialization;
using McpServerless.Model;

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
/// <see cref="Type"/> says which kind of entry to read again; it is written only for a virtual server, so a server's
/// notice is <c>{"name","kind","version"}</c> as it always was, and a notice without it is about a server.
/// </summary>
public sealed record RegistryChange(
    string Name,
    RegistryChangeKind Kind,
    string? Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] RegistryEntryType Type = RegistryEntryType.Server)
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
