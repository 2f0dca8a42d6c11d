using System.Collections.Frozen;
using McpServerless.Model;
using McpServerless.Security;

namespace McpServerless.VirtualServers;

/// <summary>The three kinds of member a virtual server selects.</summary>
public enum MemberKind
{
    Tool,
    Prompt,
    Resource,
}

/// <summary>
/// A validated <see cref="VirtualServerDefinition"/> compiled once (selectors parsed, overrides indexed, access rule
/// built), so that resolving it against the servers' current lists is a pure, linear pass that can be repeated
/// whenever a member server's list changes. <see cref="Servers"/> and <see cref="Selects"/> tell which changes matter.
/// <para>
/// Resolution rule (<see cref="Resolve"/>): selectors are taken in the order written; a glob takes its server's matching
/// names in ordinal order. Each member is exposed under its override name, else its own. The first member to claim an
/// exposed name keeps it; a later one with the same exposed name is left out with a
/// <see cref="VirtualServerWarnings.NameCollision"/> warning. A member taken by two selectors counts once, for the first.
/// Resources keep their URIs, so two servers listing one URI collide the same way.
/// </para>
/// </summary>
public sealed class VirtualServerPlan
{
    private readonly MemberSelector[][] _selectors;
    private readonly FrozenDictionary<(string Server, string Name), MemberOverride> _overrides;

    private VirtualServerPlan(VirtualServerDefinition definition)
    {
        Definition = definition;
        AccessRule = McpAccessRule.From(definition);
        _selectors = [Parse(definition.Tools), Parse(definition.Prompts), Parse(definition.Resources)];
        _overrides = (definition.Overrides ?? FrozenDictionary<string, MemberOverride>.Empty)
            .Select(p => MemberSelector.TryParse(p.Key, out var key) ? KeyValuePair.Create((key.Server, key.Pattern), p.Value) : default)
            .Where(p => p.Value is not null)
            .ToFrozenDictionary();
        Servers = _selectors.SelectMany(s => s).Select(s => s.Server).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Compiles a definition that passed <see cref="Validation.VirtualServerValidator"/> (entries that did not are skipped).</summary>
    public static VirtualServerPlan Create(VirtualServerDefinition definition) => new(definition);

    public VirtualServerDefinition Definition { get; }

    public string Name => Definition.Name;

    /// <summary>The virtual server's own <c>authTokens</c>, <c>allowedIPs</c> and <c>requireAuth</c>.</summary>
    public McpAccessRule AccessRule { get; }

    /// <summary>Every server some selector names: a change of any other server cannot change this virtual server.</summary>
    public IReadOnlySet<string> Servers { get; }

    /// <summary>The selectors of one kind, in the order written.</summary>
    public IReadOnlyList<MemberSelector> SelectorsOf(MemberKind kind) => _selectors[(int)kind];

    /// <summary>Whether a selector of <paramref name="kind"/> names <paramref name="server"/> (so its list of that kind matters).</summary>
    public bool Selects(MemberKind kind, string server)
    {
        foreach (var selector in _selectors[(int)kind])
        {
            if (selector.Server == server) return true;
        }
        return false;
    }

    /// <summary>
    /// The members of one kind that the servers' current lists yield, under the rule in the class remarks.
    /// </summary>
    /// <param name="namesOf">
    /// The names (resource URIs) a server offers now, after its own tool filter; null or empty when it offers none
    /// (not registered, not connected). Asked once per selector, only for the servers selectors name.
    /// </param>
    public VirtualMembers Resolve(MemberKind kind, Func<string, IEnumerable<string>?> namesOf)
    {
        var selectors = _selectors[(int)kind];
        if (selectors.Length == 0) return VirtualMembers.Empty;

        var members = new List<VirtualMember>();
        var byName = new Dictionary<string, VirtualMember>(StringComparer.Ordinal);
        var taken = new HashSet<(string Server, string Name)>();
        List<string>? unresolved = null;
        List<VirtualServerWarning>? warnings = null;

        foreach (var selector in selectors)
        {
            var matched = Match(selector, namesOf(selector.Server));
            if (matched.Count == 0)
            {
                (unresolved ??= []).Add(selector.ToString());
                continue;
            }
            foreach (var upstreamName in matched)
            {
                if (!taken.Add((selector.Server, upstreamName))) continue;
                var change = _overrides.GetValueOrDefault((selector.Server, upstreamName));
                var name = upstreamName;
                if (change?.Name is { } rename)
                {
                    if (kind == MemberKind.Resource)
                        (warnings ??= []).Add(VirtualServerWarnings.ResourceRenameIgnored(selector.Server, upstreamName));
                    else
                        name = rename;
                }

                var member = new VirtualMember(name, selector.Server, upstreamName, change?.Description);
                if (byName.TryGetValue(name, out var first))
                {
                    (warnings ??= []).Add(VirtualServerWarnings.Collision(kind, member, first));
                    continue;
                }
                byName.Add(name, member);
                members.Add(member);
            }
        }
        return new VirtualMembers(members, byName, unresolved ?? [], warnings ?? []);
    }

    /// <summary>A <see cref="VirtualServerWarnings.UnknownServer"/> warning for each server a selector names that <paramref name="isRegistered"/> denies.</summary>
    public IReadOnlyList<VirtualServerWarning> UnknownServers(Func<string, bool> isRegistered) =>
        [.. _selectors.SelectMany(s => s)
            .Where(s => !isRegistered(s.Server))
            .DistinctBy(s => s.Server, StringComparer.Ordinal)
            .Select(s => VirtualServerWarnings.UnknownServer(s))];

    /// <summary>
    /// The server a resource URI is read from: that of the first resource selector matching it, or null when none does.
    /// Covers URIs of resource templates too, which no list names.
    /// </summary>
    public string? RouteResource(string uri)
    {
        foreach (var selector in _selectors[(int)MemberKind.Resource])
        {
            if (selector.Matches(uri)) return selector.Server;
        }
        return null;
    }

    private static IReadOnlyList<string> Match(MemberSelector selector, IEnumerable<string>? names)
    {
        if (names is null) return [];
        if (!selector.IsGlob) return names.Contains(selector.Pattern, StringComparer.Ordinal) ? [selector.Pattern] : [];
        List<string>? matched = null;
        foreach (var name in names)
        {
            if (selector.Matches(name)) (matched ??= []).Add(name);
        }
        if (matched is null) return [];
        matched.Sort(StringComparer.Ordinal);
        return matched;
    }

    private static MemberSelector[] Parse(IReadOnlyList<string>? entries) =>
        [.. (entries ?? []).Select(e => MemberSelector.TryParse(e, out var s) ? s : null).OfType<MemberSelector>()];
}
