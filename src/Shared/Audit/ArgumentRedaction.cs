using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpServerless.Model;

namespace McpServerless.Audit;

/// <summary>
/// The copy of a call's arguments an audit entry may keep (<see cref="AuditOptions.IncludeArguments"/>): the value of
/// any property whose name suggests a secret (token, password, key, cookie, ...) and any string that looks like a
/// credential (<c>Bearer ...</c>, <c>Basic ...</c>, a JWT) becomes <see cref="SecretRedaction.Mask"/>. Arguments whose
/// redacted JSON exceeds <see cref="MaxBytes"/> are replaced by a note of their size, so one call cannot bloat the store.
/// </summary>
internal static class ArgumentRedaction
{
    public const int MaxBytes = 16 * 1024;

    // Matched against the property name in lower case without '-' and '_'.
    private static readonly string[] SecretNameParts =
    [
        "token", "secret", "password", "passwd", "passphrase", "apikey", "authorization", "bearer", "credential",
        "cookie", "privatekey", "accesskey", "clientkey", "signature", "sessionid",
    ];

    public static JsonElement Redact(JsonNode? arguments)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, arguments);
        if (buffer.WrittenCount > MaxBytes)
        {
            var size = buffer.WrittenCount;
            buffer.ResetWrittenCount();
            using var note = new Utf8JsonWriter(buffer);
            note.WriteStringValue($"({size} bytes of arguments, more than the {MaxBytes} kept)");
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    public static bool IsSecretName(string name)
    {
        Span<char> normalized = name.Length <= 128 ? stackalloc char[name.Length] : new char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (c is not ('-' or '_')) normalized[length++] = char.ToLowerInvariant(c);
        }
        normalized = normalized[..length];
        foreach (var part in SecretNameParts)
        {
            if (normalized.Contains(part, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj)
                {
                    writer.WritePropertyName(name);
                    if (value is not null && IsSecretName(name)) writer.WriteStringValue(SecretRedaction.Mask);
                    else Write(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array) Write(writer, item);
                writer.WriteEndArray();
                break;
            default:
                if (node.GetValueKind() == JsonValueKind.String && LooksLikeCredential(node.GetValue<string>())) writer.WriteStringValue(SecretRedaction.Mask);
                else node.WriteTo(writer);
                break;
        }
    }

    private static bool LooksLikeCredential(string value) =>
        value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
        || (value.StartsWith("eyJ", StringComparison.Ordinal) && value.Count(c => c == '.') == 2);
}
