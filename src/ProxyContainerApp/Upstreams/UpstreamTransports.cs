using McpServerless.Model;
using McpServerless.Proxy.Upstreams.Auth;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Upstreams;

/// <summary>Builds the SDK client transport for a definition. The SDK logs a stdio server's stderr under its name.</summary>
internal static class UpstreamTransports
{
    /// <param name="observe">Shown each incoming message in arrival order (see <see cref="ObservedClientTransport"/>).</param>
    /// <param name="maxMessageBytes">Enforced while an HTTP upstream's responses are read (see <see cref="MessageSizeLimitHandler"/>).</param>
    /// <param name="credential">The token presented upstream for <c>upstreamAuth</c> (see <see cref="UpstreamAuthHandler"/>); null for none.</param>
    /// <param name="postStreams">Told which call each server-to-client request of a streamable-HTTP upstream came with.</param>
    public static ObservedClientTransport Create(McpDefinition definition, TimeSpan connectTimeout, long maxMessageBytes, UpstreamTokenSource? credential,
        ILoggerFactory loggerFactory, PostStreams postStreams, Func<JsonRpcMessage, JsonRpcMessage?> observe) =>
        new(CreateInner(definition, connectTimeout, maxMessageBytes, credential, loggerFactory, postStreams), observe,
            marksPosts: definition.Transport == McpTransport.StreamableHttp);

    private static IClientTransport CreateInner(McpDefinition definition, TimeSpan connectTimeout, long maxMessageBytes, UpstreamTokenSource? credential,
        ILoggerFactory loggerFactory, PostStreams postStreams)
    {
        if (definition.Transport == McpTransport.Stdio)
        {
            return new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = definition.Name,
                Command = definition.Command!,
                Arguments = [.. definition.Args ?? []],
                EnvironmentVariables = definition.Env?.ToDictionary(p => p.Key, p => (string?)p.Value),
                ShutdownTimeout = TimeSpan.FromSeconds(2),
            }, loggerFactory);
        }

        var limited = new MessageSizeLimitHandler(maxMessageBytes, postStreams);
        return new HttpClientTransport(new HttpClientTransportOptions
        {
            Name = definition.Name,
            Endpoint = new Uri(definition.Url!),
            TransportMode = definition.Transport == McpTransport.Sse ? HttpTransportMode.Sse : HttpTransportMode.StreamableHttp,
            AdditionalHeaders = definition.Headers?.ToDictionary(p => p.Key, p => p.Value),
            ConnectionTimeout = connectTimeout,
        }, new HttpClient(credential is null ? limited : new UpstreamAuthHandler(credential, limited)), loggerFactory, ownsHttpClient: true);
    }
}
