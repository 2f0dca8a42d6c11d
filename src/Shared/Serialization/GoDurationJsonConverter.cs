using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace McpServerless.Serialization;

/// <summary>
/// Reads a duration as a Go string ("30s"), a <see cref="TimeSpan"/> string ("00:00:30") or an integer
/// count of nanoseconds (what Go's encoding/json sends for a bare <c>time.Duration</c>); writes Go strings.
/// </summary>
public sealed class GoDurationJsonConverter : JsonConverter<TimeSpan?>
{
    public override bool HandleNull => true;

    public override TimeSpan? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number when reader.TryGetInt64(out var nanoseconds):
                return TimeSpan.FromTicks(nanoseconds / 100);
            case JsonTokenType.String:
                var text = reader.GetString()!;
                if (GoDuration.TryParse(text, out var goValue)) return goValue;
                if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var spanValue)) return spanValue;
                break;
        }
        throw new JsonException("Expected a duration such as \"30s\", \"1m30s\", \"500ms\", \"00:00:30\" or integer nanoseconds.");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan? value, JsonSerializerOptions options)
    {
        if (value is { } duration) writer.WriteStringValue(GoDuration.Format(duration));
        else writer.WriteNullValue();
    }
}
