using System.Text.Json.Nodes;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The message filter of an aggregated session (<c>/mcp</c>, <c>/sse</c>): one MCP server made of every
/// connected upstream the caller may use. Tools and prompts are named <c>{server}__{name}</c>; a call is
/// routed to the registered server whose name followed by <c>__</c> begins the name, the longest such server
/// name winning, so <c>a__b__c</c> goes to server <c>a__b</c> as <c>c</c> when both <c>a</c> and <c>a__b</c>
/// exist (the colliding <c>a</c> tool <c>b__c</c> is then left out of the list). Resources keep their URIs:
/// a read goes to the server that listed the URI, or else to each server in turn until one has it.
/// </summary>
internal sealed class AggregateRelay(UpstreamManager upstreams, AccessPolicy policy, CallerIdentity caller, ILogger logger) : RelayFilter(logger)
{
    public const string Separator = "__";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _resourceOwners = new(StringComparer.Ordinal);

    protected override string Target => "(aggregate)";

    // What a caller sees here depends on who it is, so nothing is public; the list is as fresh as its stalest server's.
    protected override CachePolicy Caching => new(
        Usable(caller.Principal).Select(u => u.Connection.Definition.ToolsCacheTtl ?? CachePolicy.DefaultToolsTtl).DefaultIfEmpty(TimeSpan.Zero).Min(), Public: false);

    protected override Task<JsonNode?> RelayAsync(JsonRpcRequest request, McpServer server, CancellationToken cancellationToken) => request.Method switch
    {
        RequestMethods.ToolsList => Task.FromResult<JsonNode?>(ListTools(request)),
        RequestMethods.ToolsCall => CallByPrefixedNameAsync(request, server, "name", cancellationToken),
        RequestMethods.PromptsList => MergeAsync(request, server, "prompts", c => c.Prompts is not null, prefixNames: true, cancellationToken),
        RequestMethods.PromptsGet => CallByPrefixedNameAsync(request, server, "name", cancellationToken),
        RequestMethods.ResourcesList => MergeAsync(request, server, "resources", c => c.Resources is not null, prefixNames: false, cancellationToken),
        RequestMethods.ResourcesTemplatesList => MergeAsync(request, server, "resourceTemplates", c => c.Resources is not null, prefixNames: false, cancellationToken),
        RequestMethods.CompletionComplete when request.Params?["ref"]?["type"].AsString() == "ref/prompt" =>
            CallByPrefixedNameAsync(request, server, "ref.name", cancellationToken),
        RequestMethods.CompletionComplete => CallByUriAsync(request, server, request.Params?["ref"]?["uri"].AsString(), cancellationToken),
        "logging/setLevel" => BroadcastAsync(request, server, cancellationToken),
        _ => CallByUriAsync(request, server, request.Params?["uri"].AsString(), cancellationToken),
    };

    /// <summary>The servers the caller of <paramref name="request"/> may use: by the OAuth principal that request brought when it brought one.</summary>
    private IEnumerable<(UpstreamConnection Connection, UpstreamSession Session)> Usable(JsonRpcRequest request) =>
        Usable(request.Context?.User as OAuthPrincipal ?? caller.Principal);

    private IEnumerable<(UpstreamConnection Connection, UpstreamSession Session)> Usable(OAuthPrincipal? principal) =>
        upstreams.Connections
            .Where(c => c.Session is not null && policy.Admits(caller.Address, caller.Token, principal, c.AccessRule))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => (c, c.Session!));

    private JsonNode ListTools(JsonRpcRequest request)
    {
        var tools = new JsonArray();
        foreach (var (connection, session) in Usable(request))
        {
            foreach (var tool in session.ToolsResult["tools"]!.AsArray().OfType<JsonObject>())
            {
                if (tool["name"].AsString() is not { } toolName) continue;
                var name = $"{connection.Name}{Separator}{toolName}";
                if (Route(request, name)?.Connection != connection) continue;
                var renamed = tool.DeepClone();
                renamed["name"] = name;
                tools.Add(renamed);
            }
        }
        return new JsonObject { ["tools"] = tools };
    }

    private async Task<JsonNode?> MergeAsync(JsonRpcRequest request, McpServer server, string listName, Func<ServerCapabilities, bool> offers, bool prefixNames, CancellationToken cancellationToken)
    {
        var merged = new JsonArray();
        foreach (var (connection, _) in Usable(request).Where(u => offers(u.Session.Capabilities)))
        {
            JsonNode? result;
            try
            {
                result = (await connection.SendAsync(request.Method, request.Params?.DeepClone(), server, cancellationToken)).Result;
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                continue; // One unavailable server must not hide the others.
            }
            foreach (var item in (result?[listName] as JsonArray ?? []).OfType<JsonObject>())
            {
                var copy = item.DeepClone();
                if (prefixNames)
                {
                    if (copy["name"].AsString() is not { } name) continue;
                    copy["name"] = $"{connection.Name}{Separator}{name}";
                }
                if (copy["uri"].AsString() is { } uri) _resourceOwners[uri] = connection.Name;
                merged.Add(copy);
            }
        }
        return new JsonObject { [listName] = merged };
    }

    private async Task<JsonNode?> CallByPrefixedNameAsync(JsonRpcRequest request, McpServer server, string namePath, CancellationToken cancellationToken)
    {
        var holder = namePath == "ref.name" ? request.Params?["ref"] : request.Params;
        var prefixed = holder?["name"].AsString() ?? "";
        if (Route(request, prefixed) is not var (connection, name))
            throw new McpProtocolException($"Unknown name: '{prefixed}'. Names on this endpoint are {{server}}{Separator}{{name}}.", McpErrorCode.InvalidParams);
        if (request.Method == RequestMethods.ToolsCall && !connection.ToolFilter.Allows(name))
            throw new McpProtocolException($"Unknown tool: '{prefixed}'.", McpErrorCode.InvalidParams);

        holder!["name"] = name;
        return (await connection.SendAsync(request.Method, request.Params, server, cancellationToken)).Result;
    }

    private async Task<JsonNode?> CallByUriAsync(JsonRpcRequest request, McpServer server, string? uri, CancellationToken cancellationToken)
    {
        var usable = Usable(request).Select(u => u.Connection).ToList();
        if (uri is not null && _resourceOwners.TryGetValue(uri, out var ownerName) && usable.FirstOrDefault(c => c.Name == ownerName) is { } owner)
            return (await owner.SendAsync(request.Method, request.Params, server, cancellationToken)).Result;

        McpProtocolException? last = null;
        foreach (var connection in usable)
        {
            try
            {
                var result = (await connection.SendAsync(request.Method, request.Params?.DeepClone(), server, cancellationToken)).Result;
                if (uri is not null) _resourceOwners[uri] = connection.Name;
                return result;
            }
            catch (McpProtocolException ex)
            {
                last = ex;
            }
        }
        throw last ?? new McpProtocolException($"No server behind this gateway has '{uri}'.", McpErrorCode.ResourceNotFound);
    }

    private async Task<JsonNode?> BroadcastAsync(JsonRpcRequest request, McpServer server, CancellationToken cancellationToken)
    {
        foreach (var (connection, _) in Usable(request))
        {
            try
            {
                await connection.SendAsync(request.Method, request.Params?.DeepClone(), server, cancellationToken);
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                // A server that refuses a log level keeps its own.
            }
        }
        return new JsonObject();
    }

    /// <summary>The usable server a prefixed name belongs to, by the longest matching server name.</summary>
    private (UpstreamConnection Connection, string Name)? Route(JsonRpcRequest request, string prefixed)
    {
        (UpstreamConnection Connection, string Name)? best = null;
        foreach (var (connection, _) in Usable(request))
        {
            var prefix = connection.Name + Separator;
            if (prefixed.Length > prefix.Length && prefixed.StartsWith(prefix, StringComparison.Ordinal) &&
                (best is null || connection.Name.Length > best.Value.Connection.Name.Length))
                best = (connection, prefixed[prefix.Length..]);
        }
        return best;
    }
}
