using System.Diagnostics;
using System.Diagnostics.Metrics;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Telemetry;

/// <summary>
/// One MCP request or notification being measured, from <see cref="ProxyInstruments.StartServer"/> or
/// <see cref="ProxyInstruments.StartClient"/>: its span (null when nothing records) and its duration histogram.
/// <see cref="Complete"/> records both with the same attributes. A struct, so measuring costs no allocation when
/// nothing records.
/// </summary>
internal readonly struct McpOperation
{
    private readonly Histogram<double> _duration;
    private readonly long _started;
    private readonly string _method;
    private readonly string? _target;
    private readonly McpPeer _peer;
    private readonly string? _protocolVersion;

    internal McpOperation(Histogram<double> duration, Activity? span, string method, string? target, McpPeer peer, string? protocolVersion)
    {
        _duration = duration;
        _started = Stopwatch.GetTimestamp();
        Span = span;
        _method = method;
        _target = target;
        _peer = peer;
        _protocolVersion = protocolVersion;
    }

    /// <summary>The span, when something records; current (so children nest under it) until <see cref="Complete"/>.</summary>
    public Activity? Span { get; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <param name="server">The server a call on the aggregate or a virtual server was routed to, when it went to one.</param>
    public void Complete(in McpOutcome outcome, string? server = null)
    {
        if (!_duration.Enabled && Span is not { IsAllDataRequested: true })
        {
            Span?.Dispose();
            return;
        }
        var tags = new TagList { { McpConventions.MethodName, _method }, { McpConventions.NetworkTransport, _peer.Transport } };
        if (_protocolVersion is not null) tags.Add(McpConventions.ProtocolVersion, _protocolVersion);
        if (_target is not null)
        {
            switch (_method)
            {
                case RequestMethods.ToolsCall:
                    tags.Add(McpConventions.ToolName, _target);
                    tags.Add(McpConventions.OperationName, McpConventions.ExecuteTool);
                    break;
                case RequestMethods.PromptsGet:
                    tags.Add(McpConventions.PromptName, _target);
                    break;
            }
        }
        if (_peer.Route is { } route) tags.Add(McpConventions.GatewayRoute, route);
        if ((_peer.Server ?? server) is { } name) tags.Add(McpConventions.GatewayServer, name);
        if (_peer.VirtualServer is { } virtualServer) tags.Add(McpConventions.GatewayVirtualServer, virtualServer);
        if (_peer.Address is { } address)
        {
            tags.Add(McpConventions.ServerAddress, address);
            tags.Add(McpConventions.ServerPort, _peer.Port);
        }
        if (outcome.ErrorType is { } errorType) tags.Add(McpConventions.ErrorType, errorType);
        if (outcome.StatusCode is { } statusCode) tags.Add(McpConventions.StatusCode, statusCode);
        _duration.Record(Elapsed.TotalSeconds, tags);

        if (Span is not { } span) return;
        if (span.IsAllDataRequested)
        {
            foreach (var tag in tags) span.SetTag(tag.Key, tag.Value);
            if (outcome.ErrorType is not null) span.SetStatus(ActivityStatusCode.Error, outcome.Message);
        }
        span.Dispose();
    }
}
