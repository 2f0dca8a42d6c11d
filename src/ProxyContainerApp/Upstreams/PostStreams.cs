using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Which call a streamable-HTTP upstream's sampling, elicitation or roots request belongs to. A 2025-11-25 server sends
/// the requests a call causes on that call's own POST response stream, but the SDK client merges every stream into one
/// message channel. So the POST's JSON-RPC id travels with the send (<see cref="MarkSending"/>, seen by the response stream,
/// which is read in the same flow), the stream notes each such request that arrives on it (<see cref="Spotter"/>),
/// and <see cref="Tag"/> puts the call's id in the request's <c>_meta</c> before the SDK's handlers get it. Over stdio
/// and the legacy SSE transport nothing tells the calls apart, and <see cref="CallerCalls.SoleCall"/> decides.
/// </summary>
internal sealed class PostStreams
{
    /// <summary>The <c>_meta</c> key a tagged request carries its call's id under; taken out before the request goes on.</summary>
    public const string CallMeta = "mcpserverless/call";

    private const int MaxRequestLine = 64 * 1024;

    private static readonly AsyncLocal<string?> Sending = new();

    // Upstream request id → the id of the call whose stream it came on; taken by Tag as the request is read.
    private readonly ConcurrentDictionary<string, string> _causes = new(StringComparer.Ordinal);

    /// <summary>
    /// Marks a relayed call's POST as the one its response stream answers, for the send that starts before the scope
    /// ends (the send's own flow keeps the mark it started with).
    /// </summary>
    public static SendingScope MarkSending(JsonRpcMessage message) =>
        message is JsonRpcRequest { Id.Id: string id } && CallerCalls.IsCallId(id) ? new SendingScope(id) : default;

    /// <summary>Sets the mark for as long as it is not disposed; the default one does nothing.</summary>
    public readonly struct SendingScope : IDisposable
    {
        private readonly bool _set;
        private readonly string? _before;

        public SendingScope(string call)
        {
            (_set, _before) = (true, Sending.Value);
            Sending.Value = call;
        }

        public void Dispose()
        {
            if (_set) Sending.Value = _before;
        }
    }

    /// <summary>A watcher for the SSE response of the POST being sent now; null when it is not a relayed call's.</summary>
    public Spotter? Watch() => Sending.Value is { } call ? new Spotter(this, call) : null;

    /// <summary>Puts the id of the call a server-to-client request came with into its <c>_meta</c>; false when none is known.</summary>
    public bool Tag(JsonRpcRequest request)
    {
        if (request.Id.Id is null || !_causes.TryRemove(request.Id.ToString(), out var call)) return false;
        var parameters = request.Params as JsonObject ?? [];
        parameters.SetMeta(CallMeta, call);
        request.Params = parameters;
        return true;
    }

    /// <summary>Takes the call id <see cref="Tag"/> put in a request's <c>_meta</c> out again.</summary>
    public static string? TakeCall(RequestParams? request)
    {
        if (request?.Meta is not { } meta || !meta.TryGetPropertyValue(CallMeta, out var call)) return null;
        meta.Remove(CallMeta);
        if (meta.Count == 0) request.Meta = null;
        return call?.GetValue<string>();
    }

    /// <summary>
    /// Reads the lines of one POST's SSE response as they pass: a <c>data:</c> line carrying a server-to-client request
    /// records that request as the call's. A line split across reads is kept until it ends, up to 64 KB, unless its
    /// start already shows a response (a <c>"result"</c> or <c>"error"</c> member, as a call's large answer has): a
    /// request longer than that, or whose start holds such a name, falls back to the sole-caller rule.
    /// </summary>
    public sealed class Spotter(PostStreams owner, string call) : IDisposable
    {
        private const int Start = 512;

        private byte[]? _line;
        private int _length;
        private bool _skipped;

        /// <summary>Takes the next piece of the current line; <paramref name="ends"/> when a newline followed it.</summary>
        public void Take(ReadOnlySpan<byte> piece, bool ends)
        {
            if (ends && _length == 0 && !_skipped)
            {
                Inspect(piece); // a whole line in one read, the usual case: nothing is copied
                return;
            }
            if (!_skipped) Keep(piece);
            if (!ends) return;
            if (!_skipped && _line is not null) Inspect(_line.AsSpan(0, _length));
            _length = 0;
            _skipped = false;
        }

        private void Keep(ReadOnlySpan<byte> piece)
        {
            var length = _length + piece.Length;
            if (length > MaxRequestLine)
            {
                _skipped = true;
                return;
            }
            if (_line is null || _line.Length < length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(length, 2 * (_line?.Length ?? Start)));
                _line?.AsSpan(0, _length).CopyTo(larger);
                if (_line is not null) ArrayPool<byte>.Shared.Return(_line);
                _line = larger;
            }
            piece.CopyTo(_line.AsSpan(_length));
            var scanned = _length;
            _length = length;
            if (scanned < Start)
            {
                var start = _line.AsSpan(0, Math.Min(_length, Start));
                _skipped = start.IndexOf("\"result\""u8) >= 0 || start.IndexOf("\"error\""u8) >= 0;
            }
        }

        public void Dispose()
        {
            if (_line is not null) ArrayPool<byte>.Shared.Return(_line);
            _line = null;
        }

        private void Inspect(ReadOnlySpan<byte> line)
        {
            if (!line.StartsWith("data:"u8) || line.IndexOf("\"method\""u8) < 0) return;
            var json = line["data:"u8.Length..];
            if (ServerRequestId(json) is { } id) owner._causes[id] = call;
        }

        // The id of a sampling, elicitation or roots request, read from its top-level members only.
        private static string? ServerRequestId(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json);
            string? id = null;
            var asks = false;
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("method"u8))
                    {
                        reader.Read();
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but current in 2025-11-25.
                        asks = reader.TokenType == JsonTokenType.String && (reader.ValueTextEquals(RequestMethods.SamplingCreateMessage)
                            || reader.ValueTextEquals(RequestMethods.ElicitationCreate) || reader.ValueTextEquals(RequestMethods.RootsList));
#pragma warning restore MCP9005
                    }
                    else if (reader.ValueTextEquals("id"u8))
                    {
                        reader.Read();
                        id = reader.TokenType switch
                        {
                            JsonTokenType.String => reader.GetString(),
                            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                            _ => null,
                        };
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            catch (JsonException)
            {
                return null; // not one whole JSON message on one line: the SDK decides what it is
            }
            return asks ? id : null;
        }
    }
}
