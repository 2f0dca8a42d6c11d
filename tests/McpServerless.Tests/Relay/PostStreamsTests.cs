using System.Text;
using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using ModelContextProtocol.Protocol;

namespace McpServerless.Tests.Relay;

/// <summary>How a relayed call's SSE response is read for the server-to-client requests that come on it, in any chunking.</summary>
public sealed class PostStreamsTests
{
    private const string Stream = """
        event: message
        data: {"method":"notifications/progress","params":{"progressToken":"gw-7","progress":1}}

        event: message
        data: {"jsonrpc":"2.0","params":{"message":"Who?","requestedSchema":{"type":"object","properties":{"method":{"type":"string"}}}},"method":"elicitation/create","id":42}

        event: message
        data: {"jsonrpc":"2.0","id":"s-1","method":"ping"}

        event: message
        data: {"jsonrpc":"2.0","id":"gw-7","result":{"content":[{"type":"text","text":"{\"method\":\"roots/list\",\"id\":9}"}]}}


        """;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void A_request_that_asks_the_caller_is_tagged_with_the_call_whose_stream_it_came_on(int chunk)
    {
        var streams = new PostStreams();
        using (var spotter = Watching(streams, "gw-7")) Feed(spotter, Stream.ReplaceLineEndings("\r\n"), chunk);

        var asked = new JsonRpcRequest { Id = new RequestId(42), Method = RequestMethods.ElicitationCreate, Params = new JsonObject { ["message"] = "Who?" } };
        Assert.True(streams.Tag(asked));
        Assert.Equal("gw-7", asked.Params!["_meta"]![PostStreams.CallMeta]!.GetValue<string>());
        Assert.False(streams.Tag(asked)); // taken once

        // A ping asks nothing of the caller, and a result's text that looks like a request is not one.
        Assert.False(streams.Tag(new JsonRpcRequest { Id = new RequestId("s-1"), Method = RequestMethods.Ping }));
        Assert.False(streams.Tag(new JsonRpcRequest { Id = new RequestId(9), Method = "roots/list" }));
    }

    [Fact]
    public void The_call_id_is_taken_out_of_the_request_before_it_goes_on()
    {
        var streams = new PostStreams();
        using (var spotter = Watching(streams, "gw-3")) Feed(spotter, "data: {\"id\":5,\"method\":\"elicitation/create\",\"params\":{}}\n\n", 4096);
        var asked = new JsonRpcRequest { Id = new RequestId(5), Method = RequestMethods.ElicitationCreate, Params = new JsonObject() };
        streams.Tag(asked);
        var parameters = new ElicitRequestParams { Message = "Who?", RequestedSchema = new(), Meta = asked.Params!["_meta"]!.AsObject() };

        Assert.Equal("gw-3", PostStreams.TakeCall(parameters));
        Assert.Null(parameters.Meta);
    }

    [Fact]
    public void A_line_split_past_64_KB_is_not_looked_into_and_the_next_one_is()
    {
        var streams = new PostStreams();
        var huge = $"data: {{\"id\":1,\"method\":\"elicitation/create\",\"params\":{{\"message\":\"{new string('x', 70_000)}\"}}}}\n";
        using (var spotter = Watching(streams, "gw-1")) Feed(spotter, huge + "data: {\"id\":2,\"method\":\"roots/list\"}\n", 4096);

        Assert.False(streams.Tag(new JsonRpcRequest { Id = new RequestId(1), Method = RequestMethods.ElicitationCreate }));
        Assert.True(streams.Tag(new JsonRpcRequest { Id = new RequestId(2), Method = "roots/list" }));
    }

    [Fact]
    public void Only_a_relayed_calls_post_is_watched()
    {
        var streams = new PostStreams();
        Assert.Null(streams.Watch());
        using (PostStreams.MarkSending(new JsonRpcRequest { Id = new RequestId(1), Method = RequestMethods.Ping })) Assert.Null(streams.Watch());
    }

    private static PostStreams.Spotter Watching(PostStreams streams, string call)
    {
        using (PostStreams.MarkSending(new JsonRpcRequest { Id = new RequestId(call), Method = RequestMethods.ToolsCall })) return streams.Watch()!;
    }

    // As MessageSizeLimitedStream hands it over: each read cut at its newlines.
    private static void Feed(PostStreams.Spotter spotter, string text, int chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var start = 0; start < bytes.Length; start += chunk)
        {
            ReadOnlySpan<byte> read = bytes.AsSpan(start, Math.Min(chunk, bytes.Length - start));
            while (!read.IsEmpty)
            {
                var newline = read.IndexOf((byte)'\n');
                spotter.Take(newline < 0 ? read : read[..newline], ends: newline >= 0);
                if (newline < 0) break;
                read = read[(newline + 1)..];
            }
        }
    }
}
