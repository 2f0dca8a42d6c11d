using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using McpServerless.Security.OAuth;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The message filter of an aggregated session (<c>/mcp</c>, <c>/sse</c>): one MCP server made of every connected
/// upstream the caller may use. Tools and prompts are named by <see cref="AggregateNaming"/>; resources keep their
/// URIs: a read goes to the server that listed the URI, or else to each server in turn until one has it. Every
/// relayed method is dispatched here by name; one this type does not know is "method not found", never a guess.
/// </summary>
internal sealed class AggregateRelay(IUpstreamLookup upstreams, AccessPolicy policy, CallerIdentity caller, RelayServices services)
    : RelayFilter(services, McpPeer.Downstream(RelayRoutes.Aggregated, server: null), caller)
{
    private const string LoggingSetLevel = "logging/setLevel";

    private readonly ConcurrentDictionary<string, string> _resourceOwners = new(StringComparer.Ordinal);

    protected override string Target => "(aggregate)";

    protected override string AuditRoute => AuditRoutes.Aggregated;

    // What a caller sees here depends on who it is, so nothing is public; the list is as fresh as its stalest server's.
    protected override CachePolicy Caching => new(
        Usable(Identity.Principal).Values.Select(c => c.Model.Definition.ToolsCacheTtl ?? CachePolicy.DefaultToolsTtl).DefaultIfEmpty(TimeSpan.Zero).Min(), Public: false);

    // A resource URI's server is known only from a listing (CallByUriAsync), so a listen here is granted list changes only.
    protected override ListenScope Listening => new("the aggregated endpoint", () => [.. Usable(Identity.Principal).Values], static (_, _) => true, static _ => null);

    protected override Task<JsonNode?> RelayAsync(JsonRpcRequest request, DownstreamCaller server, CancellationToken cancellationToken) => request.Method switch
    {
        RequestMethods.ToolsList => Task.FromResult<JsonNode?>(ListTools(request)),
        RequestMethods.ToolsCall => CallByExposedNameAsync(request, request.Params, server, cancellationToken),
        RequestMethods.PromptsList => MergeAsync(request, server, "prompts", c => c.Prompts is not null, exposeNames: true, cancellationToken),
        RequestMethods.PromptsGet => CallByExposedNameAsync(request, request.Params, server, cancellationToken),
        RequestMethods.ResourcesList => MergeAsync(request, server, "resources", c => c.Resources is not null, exposeNames: false, cancellationToken),
        RequestMethods.ResourcesTemplatesList => MergeAsync(request, server, "resourceTemplates", c => c.Resources is not null, exposeNames: false, cancellationToken),
        RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe =>
            CallByUriAsync(request, server, request.Params?["uri"].AsString(), cancellationToken),
        RequestMethods.CompletionComplete when request.Params?["ref"]?["type"].AsString() == "ref/prompt" =>
            CallByExposedNameAsync(request, request.Params?["ref"], server, cancellationToken),
        RequestMethods.CompletionComplete => CallByUriAsync(request, server, request.Params?["ref"]?["uri"].AsString(), cancellationToken),
        LoggingSetLevel => BroadcastAsync(request, server, cancellationToken),
        _ => throw new McpProtocolException($"Method not found: '{request.Method}'.", McpErrorCode.MethodNotFound),
    };

    /// <summary>
    /// The connected servers the caller of <paramref name="request"/> may use, by name: with OAuth, by the principal that
    /// request brought (a refreshed token's scopes), else by the one the session opened with.
    /// </summary>
    private Dictionary<string, UpstreamConnection> Usable(JsonRpcRequest request) => Usable(request.Context?.User as OAuthPrincipal ?? Identity.Principal);

    private Dictionary<string, UpstreamConnection> Usable(OAuthPrincipal? principal) => Usable(upstreams, policy, Identity, principal);

    private static Dictionary<string, UpstreamConnection> Usable(IUpstreamLookup upstreams, AccessPolicy policy, CallerIdentity caller, OAuthPrincipal? principal) =>
        upstreams.Connections
            .Where(c => c.Session is not null && policy.Admits(caller.Address, caller.Token, principal, c.Model.AccessRule))
            .ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>The upstream tool the aggregate shows <paramref name="caller"/> as <paramref name="exposed"/>, or null.</summary>
    public static Tool? ExposedTool(IUpstreamLookup upstreams, AccessPolicy policy, CallerIdentity caller, string exposed)
    {
        var usable = Usable(upstreams, policy, caller, caller.Principal);
        return AggregateNaming.Route(exposed, usable.Keys) is var (server, name)
            ? usable[server].Session?.Tools.FirstOrDefault(t => t.Name == name)
            : null;
    }

    private JsonNode ListTools(JsonRpcRequest request)
    {
        var usable = Usable(request);
        var tools = new JsonArray();
        foreach (var connection in usable.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            foreach (var tool in (connection.Session?.ToolsResult["tools"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (tool["name"].AsString() is not { } name || !AggregateNaming.IsExposed(connection.Name, name, usable.Keys)) continue;
                var exposed = tool.DeepClone();
                exposed["name"] = AggregateNaming.Expose(connection.Name, name);
                tools.Add(exposed);
            }
        }
        return new JsonObject { ["tools"] = tools };
    }

    private async Task<JsonNode?> MergeAsync(JsonRpcRequest request, DownstreamCaller server, string listName, Func<ServerCapabilities, bool> offers, bool exposeNames, CancellationToken cancellationToken)
    {
        var usable = Usable(request);
        var merged = new JsonArray();
        foreach (var connection in usable.Values.Where(c => c.Session is { } s && offers(s.Capabilities)).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            JsonNode? result;
            try
            {
                result = await ForwardAsync(connection, request.Method, request.Params?.DeepClone(), server, cancellationToken);
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                continue; // One unavailable server must not hide the others.
            }
            foreach (var item in (result?[listName] as JsonArray ?? []).OfType<JsonObject>())
            {
                var copy = item.DeepClone();
                if (exposeNames)
                {
                    if (copy["name"].AsString() is not { } name || !AggregateNaming.IsExposed(connection.Name, name, usable.Keys)) continue;
                    copy["name"] = AggregateNaming.Expose(connection.Name, name);
                }
                if (copy["uri"].AsString() is { } uri) _resourceOwners[uri] = connection.Name;
                merged.Add(copy);
            }
        }
        return new JsonObject { [listName] = merged };
    }

    /// <param name="holder">The object whose <c>name</c> carries the exposed name (the params, or a completion's <c>ref</c>).</param>
    private async Task<JsonNode?> CallByExposedNameAsync(JsonRpcRequest request, JsonNode? holder, DownstreamCaller server, CancellationToken cancellationToken)
    {
        var usable = Usable(request);
        var exposed = holder?["name"].AsString() ?? "";
        if (AggregateNaming.Route(exposed, usable.Keys) is not var (target, name))
            throw new McpProtocolException($"Unknown name: '{exposed}'. Names on this endpoint are {{server}}{AggregateNaming.Separator}{{name}}.", McpErrorCode.InvalidParams);

        holder!["name"] = name;
        return await ForwardAsync(usable[target], request.Method, request.Params, server, cancellationToken);
    }

    private async Task<JsonNode?> CallByUriAsync(JsonRpcRequest request, DownstreamCaller server, string? uri, CancellationToken cancellationToken)
    {
        var usable = Usable(request);
        if (uri is not null && _resourceOwners.TryGetValue(uri, out var ownerName) && usable.TryGetValue(ownerName, out var owner))
            return await ForwardAsync(owner, request.Method, request.Params, server, cancellationToken);

        McpProtocolException? last = null;
        foreach (var connection in usable.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            try
            {
                var result = await ForwardAsync(connection, request.Method, request.Params?.DeepClone(), server, cancellationToken);
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

    private async Task<JsonNode?> BroadcastAsync(JsonRpcRequest request, DownstreamCaller server, CancellationToken cancellationToken)
    {
        foreach (var connection in Usable(request).Values)
        {
            try
            {
                await ForwardAsync(connection, request.Method, request.Params?.DeepClone(), server, cancellationToken);
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                // A server that refuses a log level keeps its own.
            }
        }
        return new JsonObject();
    }
}
