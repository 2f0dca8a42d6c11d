using System.Buffers;
using System.IO.Pipelines;
using System.Text.Unicode;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// What a JSON-RPC POST to an MCP endpoint must be before the SDK reads it: declared as JSON in UTF-8 (else 415, where
/// the SDK would fail on a missing or unknown charset, or decode another one), and valid UTF-8 (else a JSON-RPC parse
/// error, where it would forward U+FFFD in place of the broken bytes). The body is looked at, not consumed: it stays
/// in the request's pipe for the SDK, bounded by <c>MaxRequestBodyBytes</c> like every body.
/// </summary>
internal static class JsonRpcBodyCheck
{
    public static async Task<IResult?> CheckAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsUtf8Json(request.ContentType))
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send JSON-RPC messages as application/json in UTF-8.");
        }

        var reader = request.BodyReader;
        var read = await reader.ReadAsync(cancellationToken);
        while (!read.IsCompleted)
        {
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await reader.ReadAsync(cancellationToken);
        }
        var valid = IsValidUtf8(read.Buffer);
        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        return valid ? null : ParseError;
    }

    private static bool IsUtf8Json(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed)) return false;
        var mediaType = parsed.MediaType.AsSpan();
        var json = mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = parsed.Charset.AsSpan().Trim('"');
        return json && (charset.IsEmpty || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsValidUtf8(ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment) return Utf8.IsValid(body.FirstSpan);
        // A character may straddle segments: validate a contiguous copy.
        var length = checked((int)body.Length);
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(copy);
            return Utf8.IsValid(copy.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static readonly IResult ParseError = Results.Json(
        new JsonRpcError { Id = default, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.ParseError, Message = "Parse error: the body is not valid UTF-8." } },
        McpJsonUtilities.DefaultOptions, statusCode: StatusCodes.Status400BadRequest);
}
