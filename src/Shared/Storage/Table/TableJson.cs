using Azure.Data.Tables;

namespace McpServerless.Storage.Table;

/// <summary>
/// A JSON document in table entity properties. A string property holds at most 64 KiB (32 K UTF-16
/// characters); a definition fits one property, but a tool catalog can exceed it, so longer documents continue in
/// <c>Json1</c>, <c>Json2</c>, ... up to what an entity (1 MiB) can carry.
/// </summary>
internal static class TableJson
{
    public const int MaxCharsPerProperty = 32 * 1024;

    // 15 × 64 KiB leaves room for the keys and system properties within the 1 MiB entity limit.
    public const int MaxProperties = 15;

    private const string Property = "Json";

    public static bool Fits(string json) => json.Length <= MaxCharsPerProperty * MaxProperties;

    public static void Write(TableEntity entity, string json)
    {
        for (var i = 0; i * MaxCharsPerProperty < json.Length || i == 0; i++)
        {
            var start = i * MaxCharsPerProperty;
            entity[PropertyName(i)] = json.Substring(start, Math.Min(MaxCharsPerProperty, json.Length - start));
        }
    }

    public static string Read(TableEntity entity)
    {
        var first = entity.GetString(Property) ?? throw new InvalidDataException($"Entity {entity.PartitionKey}/{entity.RowKey} has no {Property} property.");
        if (first.Length < MaxCharsPerProperty) return first;
        var json = new System.Text.StringBuilder(first);
        for (var i = 1; entity.GetString(PropertyName(i)) is { } next; i++) json.Append(next);
        return json.ToString();
    }

    private static string PropertyName(int index) => index == 0 ? Property : Property + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
