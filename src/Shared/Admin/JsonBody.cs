using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace McpServerless.Admin;

/// <summary>Reads a bounded JSON request body without copying it, turning every kind of bad input into a 4xx.</summary>
internal static class JsonBody
{
    /// <returns>The value or the error, and the bytes read (for the audit log: a chunked body has no Content-Length).</returns>
    public static async Task<(T? Value, IResult? Error, long Bytes)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, int maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        if (!IsJson(request.ContentType))
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the body as application/json."), 0);
        if (request.ContentLength > maxBytes)
            return (null, TooLarge(maxBytes), 0);

        var reader = request.BodyReader;
        var read = await reader.ReadAtLeastAsync(maxBytes + 1, cancellationToken);
        var bytes = read.Buffer.Length;
        try
        {
            if (bytes > maxBytes) return (null, TooLarge(maxBytes), bytes);
            var json = new Utf8JsonReader(read.Buffer, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var value = JsonSerializer.Deserialize(ref json, typeInfo);
            return value is null
                ? (null, Problem(StatusCodes.Status400BadRequest, "Invalid body", "The body must be a JSON object."), bytes)
                : (value, null, bytes);
        }
        catch (JsonException ex)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Invalid JSON", Describe(ex)), bytes);
        }
        catch (InvalidOperationException ex) when (ex.Source == "System.Text.Json")
        {
            // Invalid UTF-8 inside a string surfaces as a transcoding error from the reader.
            return (null, Problem(StatusCodes.Status400BadRequest, "Invalid JSON", "The body is not valid UTF-8 JSON."), bytes);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0) mediaType = mediaType[..semicolon];
        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    // The serializer's messages name a JSON path and the expected type, never the offending value.
    private static string Describe(JsonException ex) =>
        ex.Path is { Length: > 0 } path
            ? $"The body could not be read at {path}: {FirstSentence(ex.Message)}"
            : $"The body is not valid JSON: {FirstSentence(ex.Message)}";

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }

    private static IResult TooLarge(int maxBytes) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"The body may be {maxBytes} bytes at most.");

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}
