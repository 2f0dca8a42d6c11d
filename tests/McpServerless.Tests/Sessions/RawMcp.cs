using System.Net.Http.Headers;
using System.Text;

namespace McpServerless.Tests.Sessions;

/// <summary>MCP over plain HTTP requests, for tests that hand a session id to places a well-behaved client never would.</summary>
internal static class RawMcp
{
    public const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
    public const string ListTools = """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";

    public static HttpRequestMessage Post(string path, string body, string? sessionId = null, string? token = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return With(request, sessionId, token, forwardedFor);
    }

    public static HttpRequestMessage With(HttpRequestMessage request, string? sessionId, string? token, string? forwardedFor = null)
    {
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        }
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }

    /// <summary>Opens a session with <c>initialize</c> and nothing else (an abandoned client); returns its id.</summary>
    public static async Task<string> InitializeAsync(HttpClient http, string path, string? token = null, string? forwardedFor = null)
    {
        using var response = await http.SendAsync(Post(path, Initialize, token: token, forwardedFor: forwardedFor));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"initialize on {path}: {(int)response.StatusCode} {body}");
        return response.Headers.GetValues("Mcp-Session-Id").Single();
    }

    /// <summary>Sends <paramref name="body"/> on a session and returns the status and body.</summary>
    public static async Task<(int Status, string Body)> SendAsync(HttpClient http, string path, string sessionId, string? token = null, string body = ListTools, string? forwardedFor = null)
    {
        using var response = await http.SendAsync(Post(path, body, sessionId, token, forwardedFor));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A legacy SSE session: the open GET stream and the message URL its <c>endpoint</c> event named.</summary>
    public sealed class LegacySession : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private LegacySession(HttpResponseMessage response, StreamReader reader, string messagePath)
        {
            _response = response;
            _reader = reader;
            MessagePath = messagePath;
        }

        /// <summary>The path and query to POST messages to, relative to the gateway root (no leading slash).</summary>
        public string MessagePath { get; }

        public string SessionId => MessagePath[(MessagePath.IndexOf("sessionId=", StringComparison.Ordinal) + "sessionId=".Length)..];

        public static async Task<LegacySession> OpenAsync(HttpClient http, string path, string? token = null)
        {
            using var request = With(new HttpRequestMessage(HttpMethod.Get, path), null, token);
            request.Headers.Accept.ParseAdd("text/event-stream");
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                    return new LegacySession(response, reader, line["data: ".Length..].TrimStart('/'));
            }
            throw new InvalidOperationException($"GET {path} sent no endpoint event.");
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }
}
