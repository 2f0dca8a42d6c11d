using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// An upstream message over the connection's <c>MaxResponseBytes</c>; the call it answers ends with a JSON-RPC error.
/// Not an <see cref="IOException"/>, which the SDK would take for a dropped stream and retry.
/// </summary>
internal sealed class UpstreamMessageTooLargeException(long limit)
    : Exception($"the upstream sent a message over MaxResponseBytes ({limit} bytes)");

/// <summary>
/// Holds HTTP upstreams to a largest message while their responses are read, so an oversized message is never
/// buffered whole. A message is a JSON body or one SSE event (up to the blank line that ends it). On a POST — a
/// response to one request — an oversized message fails that request with <see cref="UpstreamMessageTooLargeException"/>;
/// on a GET stream it fails the stream as a network error, which the SDK answers by reopening it.
/// </summary>
/// <param name="postStreams">Shown the lines of each relayed call's SSE response, for the requests that come on it.</param>
internal sealed class MessageSizeLimitHandler(long maxBytes, PostStreams postStreams) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (SseErrorBody.Applies(request, response))
        {
            response.Content = await SseErrorBody.AsJsonAsync(response.Content, cancellationToken);
            return response;
        }
        var original = response.Content;
        var spotter = request.Method == HttpMethod.Post && original.Headers.ContentType?.MediaType == "text/event-stream" ? postStreams.Watch() : null;
        var limited = new StreamContent(new MessageSizeLimitedStream(await original.ReadAsStreamAsync(cancellationToken), maxBytes,
            failsRequest: request.Method == HttpMethod.Post, spotter));
        // Copied as they came, without parsing them or building a string array per header.
        foreach (var (name, values) in original.Headers.NonValidated)
        {
            if (values.Count == 1) limited.Headers.TryAddWithoutValidation(name, values.ToString());
            else limited.Headers.TryAddWithoutValidation(name, values);
        }
        response.Content = limited;
        return response;
    }

    private sealed class MessageSizeLimitedStream(Stream inner, long maxBytes, bool failsRequest, PostStreams.Spotter? spotter) : Stream
    {
        private long _messageBytes;
        private bool _lineEmpty = true; // only '\r' since the last '\n'

        public override int Read(Span<byte> buffer) => Count(buffer[..inner.Read(buffer)]);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Counts the bytes of the current message, which a blank line ends.
        private int Count(ReadOnlySpan<byte> read)
        {
            var length = read.Length;
            while (!read.IsEmpty)
            {
                var newline = read.IndexOf((byte)'\n');
                var line = newline < 0 ? read : read[..newline];
                spotter?.Take(line, ends: newline >= 0);
                _messageBytes += line.Length;
                if (line.ContainsAnyExcept((byte)'\r')) _lineEmpty = false;
                if (_messageBytes > maxBytes)
                {
                    throw failsRequest ? new UpstreamMessageTooLargeException(maxBytes)
                        : new IOException(new UpstreamMessageTooLargeException(maxBytes).Message);
                }
                if (newline < 0) break;
                if (_lineEmpty) _messageBytes = 0; // a blank line: the event is complete
                _lineEmpty = true;
                read = read[(newline + 1)..];
            }
            return length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                spotter?.Dispose();
            }
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync()
        {
            spotter?.Dispose();
            return inner.DisposeAsync();
        }
    }
}

/// <summary>
/// The size of a parsed message without writing it again: the raw JSON of each value the SDK parsed, plus names and
/// punctuation (within a few bytes per member of the wire size). Used for a stdio upstream's messages, which the SDK
/// reads whole before the gateway sees them, and for the audit log's byte counts.
/// </summary>
internal static class JsonSize
{
    /// <summary>True once the size passes <paramref name="limit"/>: the walk stops there.</summary>
    public static bool Exceeds(JsonNode? node, long limit)
    {
        var total = 0L;
        return Exceeds(node, limit, ref total);
    }

    public static long Of(JsonNode? node)
    {
        var total = 0L;
        Exceeds(node, long.MaxValue, ref total);
        return node is null ? 0 : total;
    }

    private static bool Exceeds(JsonNode? node, long limit, ref long total)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    total += name.Length + 4;
                    if (Exceeds(child, limit, ref total)) return true;
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (Exceeds(child, limit, ref total)) return true;
                }
                break;
            case JsonValue value when value.TryGetValue(out JsonElement element):
                total += JsonMarshal.GetRawUtf8Value(element).Length;
                break;
            case JsonValue value when value.TryGetValue(out string? text):
                total += text.Length + 2;
                break;
            default:
                total += 8;
                break;
        }
        return total > limit;
    }
}

/// <summary>
/// Gives memory back after oversized stdio messages, which the SDK had to read whole: hundreds of megabytes of garbage,
/// partly parked in the runtime's shared array pools, that an otherwise quiet gateway would never collect. A burst
/// shares one aggressive, compacting collection a second after its first message, and one more after a minute, when
/// the pools release buffers left unused (they keep recently used ones).
/// </summary>
internal static class OversizedGarbage
{
    private static int s_scheduled;

    public static void Reclaim()
    {
        if (Interlocked.Exchange(ref s_scheduled, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Volatile.Write(ref s_scheduled, 0);
            Collect();
            await Task.Delay(TimeSpan.FromSeconds(61));
            Collect();
        });
    }

    private static void Collect()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
