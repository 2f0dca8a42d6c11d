using System.Net.Http.Headers;
using System.Text;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// A refused POST whose JSON-RPC error came as an SSE event. SDK 2.4.0's client reads the error of a 4xx answer only
/// from an <c>application/json</c> body (and otherwise reports a bare HTTP failure), but servers, the SDK's own among
/// them, stream it: a 2026-07-28 server's <c>-32021</c> (a capability the request did not declare) arrives as HTTP 400
/// with <c>text/event-stream</c>. The gateway hands the SDK the event's data as the JSON body it reads, so the caller
/// gets the upstream's error, code and data, instead of an HTTP failure.
/// </summary>
internal static class SseErrorBody
{
    // An error event is small; a body larger than this is left as it is.
    private const int MaxBytes = 64 * 1024;

    public static bool Applies(HttpRequestMessage request, HttpResponseMessage response) =>
        request.Method == HttpMethod.Post && !response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "text/event-stream";

    /// <summary>The first event's data as an <c>application/json</c> body, or the body as it was if it has none.</summary>
    public static async Task<HttpContent> AsJsonAsync(HttpContent sse, CancellationToken cancellationToken)
    {
        var body = await ReadBoundedAsync(sse, cancellationToken);
        var data = new StringBuilder();
        foreach (var line in body.Split('\n'))
        {
            var text = line.TrimEnd('\r');
            if (text.Length == 0 && data.Length > 0) break; // the end of the first event with data
            if (text.StartsWith("data:", StringComparison.Ordinal))
                data.Append(data.Length > 0 ? "\n" : "").Append(text.AsSpan(text.StartsWith("data: ", StringComparison.Ordinal) ? 6 : 5));
        }
        var content = new StringContent(data.Length > 0 ? data.ToString() : body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(data.Length > 0 ? "application/json" : "text/event-stream");
        return content;
    }

    private static async Task<string> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBytes];
        var read = 0;
        int chunk;
        while (read < buffer.Length && (chunk = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0) read += chunk;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
