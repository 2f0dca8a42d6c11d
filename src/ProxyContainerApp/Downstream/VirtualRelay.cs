using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using McpServerless.Audit;
using McpServerless.Proxy.Management;
using McpServerless.Proxy.Telemetry;
using McpServerless.Proxy.Upstreams;
using McpServerless.Security;
using McpServerless.VirtualServers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpServerless.Proxy.Downstream;

/// <summary>
/// The message filter of a session on a virtual server's <c>/{name}/…</c>: one MCP server made of the members its
/// <see cref="VirtualServerPlan"/> selects from registered servers, under their exposed names. <c>tools/list</c> is
/// answered from the member servers' cached lists (already through each server's own tool filter), resolved again only
/// when one of those lists or the plan changed; a call goes to the member's server under its upstream name, as raw JSON.
/// Prompts are listed from the member servers and routed the same way; a resource URI goes to the server of the first
/// resource selector matching it. The plan is looked up by name on each request, so an update is seen at once.
/// </summary>
internal sealed class VirtualRelay(string name, VirtualServerCatalog catalog, IUpstreamLookup upstreams, AccessPolicy policy, RelayServices services, CallerIdentity caller)
    : RelayFilter(services, McpPeer.DownstreamVirtual(name), caller)
{
    private const string LoggingSetLevel = "logging/setLevel";

    // A server is asked for one page after another up to this many: a list is the sum of its pages.
    private const int MaxPages = 100;

    // One resolved tool list per plan, shared by all its sessions (a stateless request gets a relay of its own), dropped with the plan.
    private static readonly ConditionalWeakTable<VirtualServerPlan, ToolView> Views = [];

    protected override string Target => name;

    protected override string AuditRoute { get; } = AuditRoutes.Virtual(name);

    // The list is as fresh as its stalest member server's; public only if the virtual server admits anyone.
    protected override CachePolicy Caching => catalog.TryGet(name, out var plan)
        ? new(MemberServers(plan).Select(c => c.Model.Definition.ToolsCacheTtl ?? CachePolicy.DefaultToolsTtl).DefaultIfEmpty(TimeSpan.Zero).Min(), policy.AdmitsAnyone(plan.AccessRule))
        : default;

    // Heard from the member servers of the plan the listen began on; a resource belongs to the server it routes to.
    protected override ListenScope Listening
    {
        get
        {
            var plan = catalog.TryGet(name, out var found) ? found : null;
            return new($"virtual server '{name}'",
                () => plan is not null && catalog.TryGet(name, out var now) && ReferenceEquals(now, plan) ? [.. MemberServers(plan)] : null,
                (server, kind) => plan?.Selects(kind, server) == true,
                uri => plan?.RouteResource(uri) is { } server && upstreams.TryGet(server, out var connection) ? connection : null);
        }
    }

    protected override Task<JsonNode?> RelayAsync(JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var plan = catalog.TryGet(name, out var found) ? found
            : throw new UpstreamException(UpstreamError.NotRegistered, $"Virtual server '{name}' is no longer registered.");
        return request.Method switch
        {
            RequestMethods.ToolsList => Task.FromResult(ListTools(plan, request, caller)),
            RequestMethods.ToolsCall => CallToolAsync(plan, request, caller, cancellationToken),
            RequestMethods.PromptsList => ListAsync(plan, MemberKind.Prompt, request.Method, caller, cancellationToken),
            RequestMethods.PromptsGet => GetPromptAsync(plan, request, request.Params, caller, cancellationToken),
            RequestMethods.ResourcesList or RequestMethods.ResourcesTemplatesList => ListAsync(plan, MemberKind.Resource, request.Method, caller, cancellationToken),
            RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe =>
                ByUriAsync(plan, request, request.Params?["uri"].AsString(), caller, cancellationToken),
            RequestMethods.CompletionComplete when request.Params?["ref"]?["type"].AsString() == "ref/prompt" =>
                GetPromptAsync(plan, request, request.Params?["ref"], caller, cancellationToken),
            RequestMethods.CompletionComplete => ByUriAsync(plan, request, request.Params?["ref"]?["uri"].AsString(), caller, cancellationToken),
            LoggingSetLevel => BroadcastAsync(plan, request, caller, cancellationToken),
            _ => throw new McpProtocolException($"Method not found: '{request.Method}'.", McpErrorCode.MethodNotFound),
        };
    }

    private JsonNode? ListTools(VirtualServerPlan plan, JsonRpcRequest request, DownstreamCaller caller)
    {
        var tools = Tools(plan).Result;
        // The resolved list is shared: a 2026-07-28 caller gets a copy to shape.
        return ResultShaper.SpeaksLatest(request, caller.Server) ? tools.DeepClone() : tools;
    }

    private async Task<JsonNode?> CallToolAsync(VirtualServerPlan plan, JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var exposed = request.Params?["name"].AsString() ?? "";
        if (!Tools(plan).Members.TryGet(exposed, out var member)) throw Missing(plan, MemberKind.Tool, exposed);
        request.Params!["name"] = member.UpstreamName;
        return await ForwardAsync(Upstream(member.Server), request.Method, request.Params, caller, cancellationToken);
    }

    /// <param name="holder">The object whose <c>name</c> carries the exposed name (the params, or a completion's <c>ref</c>).</param>
    private async Task<JsonNode?> GetPromptAsync(VirtualServerPlan plan, JsonRpcRequest request, JsonNode? holder, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var exposed = holder?["name"].AsString() ?? "";
        var lists = await FetchAsync(plan, MemberKind.Prompt, RequestMethods.PromptsList, caller, cancellationToken);
        if (!plan.Resolve(MemberKind.Prompt, s => lists.GetValueOrDefault(s)?.Keys).TryGet(exposed, out var member))
            throw Missing(plan, MemberKind.Prompt, exposed);
        holder!["name"] = member.UpstreamName;
        return await ForwardAsync(Upstream(member.Server), request.Method, request.Params, caller, cancellationToken);
    }

    private async Task<JsonNode?> ByUriAsync(VirtualServerPlan plan, JsonRpcRequest request, string? uri, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        if (uri is null) throw new McpProtocolException("The request names no resource URI.", McpErrorCode.InvalidParams);
        var server = plan.RouteResource(uri)
            ?? throw new McpProtocolException($"Resource not found: '{uri}' is not among the resources of virtual server '{name}'.", McpErrorCode.ResourceNotFound);
        return await ForwardAsync(Upstream(server), request.Method, request.Params, caller, cancellationToken);
    }

    /// <summary>Prompts, resources or resource templates: each member server's list, resolved, renamed and re-described.</summary>
    private async Task<JsonNode?> ListAsync(VirtualServerPlan plan, MemberKind kind, string method, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var lists = await FetchAsync(plan, kind, method, caller, cancellationToken);
        var members = plan.Resolve(kind, s => lists.GetValueOrDefault(s)?.Keys);
        var items = new JsonArray();
        foreach (var member in members.Members)
        {
            var item = lists[member.Server][member.UpstreamName].DeepClone();
            if (kind != MemberKind.Resource) item["name"] = member.Name; // a resource keeps its URI, and its own display name
            if (member.Description is { } description) item["description"] = description;
            items.Add(item);
        }
        return new JsonObject { [ListName(method)] = items };
    }

    /// <summary>
    /// <paramref name="method"/>'s list from each connected server a selector of <paramref name="kind"/> names and that
    /// offers it, every page, keyed by server then by name (URI, URI template). A server that fails is left out: one
    /// unavailable member must not hide the others.
    /// </summary>
    private async Task<Dictionary<string, Dictionary<string, JsonObject>>> FetchAsync(VirtualServerPlan plan, MemberKind kind, string method, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        var (listName, key) = (ListName(method), method == RequestMethods.ResourcesTemplatesList ? "uriTemplate" : kind == MemberKind.Resource ? "uri" : "name");
        var lists = new Dictionary<string, Dictionary<string, JsonObject>>(StringComparer.Ordinal);
        foreach (var server in plan.SelectorsOf(kind).Select(s => s.Server).Distinct(StringComparer.Ordinal))
        {
            if (!upstreams.TryGet(server, out var connection) || connection.Session is not { } session
                || (kind == MemberKind.Prompt ? session.Capabilities.Prompts is null : session.Capabilities.Resources is null))
                continue;
            var items = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            try
            {
                JsonObject? page = null;
                for (var pages = 0; pages < MaxPages; pages++)
                {
                    var result = await ForwardAsync(connection, method, page, caller, cancellationToken);
                    foreach (var item in (result?[listName] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        if (item[key].AsString() is { } id) items.TryAdd(id, item);
                    }
                    if (result?["nextCursor"].AsString() is not { Length: > 0 } cursor) break;
                    page = new JsonObject { ["cursor"] = cursor };
                }
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                continue;
            }
            lists[server] = items;
        }
        return lists;
    }

    private async Task<JsonNode?> BroadcastAsync(VirtualServerPlan plan, JsonRpcRequest request, DownstreamCaller caller, CancellationToken cancellationToken)
    {
        foreach (var connection in MemberServers(plan).Where(c => c.Session is not null))
        {
            try
            {
                await ForwardAsync(connection, request.Method, request.Params?.DeepClone(), caller, cancellationToken);
            }
            catch (Exception ex) when (ex is UpstreamException or McpProtocolException)
            {
                // A server that refuses a log level keeps its own.
            }
        }
        return new JsonObject();
    }

    /// <summary>The upstream tool <paramref name="plan"/> exposes as <paramref name="exposed"/>, or null.</summary>
    public static Tool? ExposedTool(VirtualServerPlan plan, IUpstreamLookup upstreams, string exposed) =>
        Tools(plan, upstreams).Members.TryGet(exposed, out var member) && upstreams.TryGet(member.Server, out var connection)
            ? connection.Session?.Tools.FirstOrDefault(t => t.Name == member.UpstreamName)
            : null;

    private ToolView Tools(VirtualServerPlan plan) => Tools(plan, upstreams);

    private static ToolView Tools(VirtualServerPlan plan, IUpstreamLookup upstreams)
    {
        if (Views.TryGetValue(plan, out var view) && view.IsCurrent(upstreams)) return view;
        view = ToolView.Create(plan, upstreams);
        Views.AddOrUpdate(plan, view);
        return view;
    }

    private UpstreamConnection Upstream(string server) => upstreams.TryGet(server, out var connection) ? connection
        : throw new UpstreamException(UpstreamError.NotRegistered, $"MCP server '{server}' is no longer registered.");

    private IEnumerable<UpstreamConnection> MemberServers(VirtualServerPlan plan) =>
        plan.Servers.Select(s => upstreams.TryGet(s, out var connection) ? connection : null).OfType<UpstreamConnection>();

    /// <summary>
    /// Why <paramref name="exposed"/> is no member now: its server is gone or down (so the caller knows it may come back),
    /// or else it is unknown here, as a filtered tool is on a server's endpoint.
    /// </summary>
    private Exception Missing(VirtualServerPlan plan, MemberKind kind, string exposed)
    {
        var noun = kind == MemberKind.Tool ? "tool" : "prompt";
        if (plan.ServerThatWouldExpose(kind, exposed) is { } server)
        {
            if (!upstreams.TryGet(server, out var connection))
                return new UpstreamException(UpstreamError.NotRegistered, $"The {noun} '{exposed}' of virtual server '{name}' is gone: MCP server '{server}', which it comes from, is not registered.");
            if (connection.Session is null)
                return new UpstreamException(UpstreamError.NotConnected, $"The {noun} '{exposed}' of virtual server '{name}' is unavailable: MCP server '{server}', which it comes from, is not connected.");
        }
        return new McpProtocolException($"Unknown {noun}: '{exposed}'.", McpErrorCode.InvalidParams);
    }

    private static string ListName(string method) => method switch
    {
        RequestMethods.PromptsList => "prompts",
        RequestMethods.ResourcesTemplatesList => "resourceTemplates",
        _ => "resources",
    };

    /// <summary>
    /// A plan's tools resolved against its member servers' lists at one moment, and the <c>tools/list</c> answer they
    /// make. Current while every member server still has the very list it was made from (a list is replaced whole on
    /// every change), which costs one lookup per server and no allocation.
    /// </summary>
    private sealed class ToolView(string[] servers, IReadOnlyList<Tool>?[] lists, VirtualMembers members, JsonNode result)
    {
        public VirtualMembers Members { get; } = members;

        public JsonNode Result { get; } = result;

        public bool IsCurrent(IUpstreamLookup upstreams)
        {
            for (var i = 0; i < servers.Length; i++)
            {
                var now = upstreams.TryGet(servers[i], out var connection) ? connection.Session?.Tools : null;
                if (!ReferenceEquals(now, lists[i])) return false;
            }
            return true;
        }

        public static ToolView Create(VirtualServerPlan plan, IUpstreamLookup upstreams)
        {
            var servers = plan.SelectorsOf(MemberKind.Tool).Select(s => s.Server).Distinct(StringComparer.Ordinal).ToArray();
            var sessions = servers.Select(s => upstreams.TryGet(s, out var connection) ? connection.Session : null).ToArray();
            var byServer = new Dictionary<string, Dictionary<string, JsonObject>>(StringComparer.Ordinal);
            for (var i = 0; i < servers.Length; i++)
            {
                if (sessions[i] is not { } session) continue;
                var tools = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
                foreach (var tool in (session.ToolsResult["tools"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (tool["name"].AsString() is { } toolName) tools.TryAdd(toolName, tool);
                }
                byServer[servers[i]] = tools;
            }

            var members = plan.Resolve(MemberKind.Tool, s => byServer.GetValueOrDefault(s)?.Keys);
            var exposed = new JsonArray();
            foreach (var member in members.Members)
            {
                var tool = byServer[member.Server][member.UpstreamName].DeepClone();
                tool["name"] = member.Name;
                if (member.Description is { } description) tool["description"] = description;
                exposed.Add(tool);
            }
            return new ToolView(servers, [.. sessions.Select(s => s?.Tools)], members, new JsonObject { ["tools"] = exposed });
        }
    }
}
