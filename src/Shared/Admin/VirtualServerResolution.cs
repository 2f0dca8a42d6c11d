using McpServerless.Model;
using McpServerless.Storage;
using McpServerless.VirtualServers;

namespace McpServerless.Admin;

/// <summary>
/// What the admin API knows of the servers at one moment (which are registered, and the tools each exposes after its
/// own filter, from live connections or from what proxy replicas reported) and the virtual server entries resolved
/// against it. Prompts and resources are listed by servers on demand only, so the admin API resolves tools and
/// reports unknown servers for every kind.
/// </summary>
internal sealed class VirtualServerResolution(IReadOnlySet<string> registered, IReadOnlyList<ToolInfo> tools)
{
    private readonly Dictionary<string, Dictionary<string, ToolInfo>> _toolsByServer = tools
        .GroupBy(t => t.McpName, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.DistinctBy(t => t.Name, StringComparer.Ordinal).ToDictionary(t => t.Name, StringComparer.Ordinal), StringComparer.Ordinal);

    public VirtualServerEntry Resolve(StoredVirtualServer stored)
    {
        var plan = VirtualServerPlan.Create(stored.Definition);
        var resolved = plan.Resolve(MemberKind.Tool, NamesOf);
        var exposed = resolved.Members.Select(m =>
        {
            var tool = _toolsByServer[m.Server][m.UpstreamName];
            return tool with { Name = m.Name, Description = m.Description ?? tool.Description, UpstreamName = m.UpstreamName };
        }).ToList();
        return new VirtualServerEntry(stored.Definition.Redact(), stored.Version, exposed, resolved.Unresolved,
            [.. plan.UnknownServers(registered.Contains), .. resolved.Warnings]);
    }

    // A registered server without tools (not connected, nothing reported) selects nothing; an unknown one is null.
    private IEnumerable<string>? NamesOf(string server) =>
        !registered.Contains(server) ? null : _toolsByServer.TryGetValue(server, out var tools) ? tools.Keys : [];
}
