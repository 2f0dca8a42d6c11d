using System.Diagnostics.CodeAnalysis;

namespace McpServerless.VirtualServers;

/// <summary>One exposed member: its name on the virtual server, and where it comes from.</summary>
/// <param name="Name">The name clients see and call (for a resource, its URI).</param>
/// <param name="Server">The registered server that has it.</param>
/// <param name="UpstreamName">Its name (URI) on that server, which a relayed call must use.</param>
/// <param name="Description">The description override, or null to keep the server's.</param>
public sealed record VirtualMember(string Name, string Server, string UpstreamName, string? Description);

/// <summary>What one kind of a virtual server's selectors yields against the servers' current lists.</summary>
public sealed class VirtualMembers
{
    private readonly Dictionary<string, VirtualMember> _byName;

    internal VirtualMembers(IReadOnlyList<VirtualMember> members, Dictionary<string, VirtualMember> byName,
        IReadOnlyList<string> unresolved, IReadOnlyList<VirtualServerWarning> warnings)
    {
        Members = members;
        _byName = byName;
        Unresolved = unresolved;
        Warnings = warnings;
    }

    public static VirtualMembers Empty { get; } = new([], [], [], []);

    /// <summary>The exposed members, in the order the rule claimed them (selectors as written, globs in name order).</summary>
    public IReadOnlyList<VirtualMember> Members { get; }

    /// <summary>The selectors, as written, that matched nothing.</summary>
    public IReadOnlyList<string> Unresolved { get; }

    /// <summary>Exposed-name collisions and ignored resource renames.</summary>
    public IReadOnlyList<VirtualServerWarning> Warnings { get; }

    /// <summary>The member exposed as <paramref name="name"/>, for routing a call.</summary>
    public bool TryGet(string name, [MaybeNullWhen(false)] out VirtualMember member) => _byName.TryGetValue(name, out member);
}

/// <summary>Something about a virtual server that does not stop it from working but may not be what its author meant.</summary>
/// <param name="Code">One of <see cref="VirtualServerWarnings"/>' codes.</param>
/// <param name="Member">The selector or <c>server:name</c> it is about.</param>
public sealed record VirtualServerWarning(string Code, string Member, string Message);

/// <summary>The warnings resolution gives, with their codes.</summary>
public static class VirtualServerWarnings
{
    public const string UnknownServerCode = "unknown-server";
    public const string NameCollisionCode = "name-collision";
    public const string ResourceRenameIgnoredCode = "resource-rename-ignored";

    public static VirtualServerWarning UnknownServer(Model.MemberSelector selector) =>
        new(UnknownServerCode, selector.ToString(),
            $"No server named '{selector.Server}' is registered; its selectors select nothing until one is.");

    public static VirtualServerWarning Collision(MemberKind kind, VirtualMember left, VirtualMember kept) =>
        new(NameCollisionCode, $"{left.Server}:{left.UpstreamName}",
            $"The {Noun(kind)} '{left.UpstreamName}' of '{left.Server}' would be exposed as '{left.Name}', which '{kept.Server}:{kept.UpstreamName}' already is (it comes first); rename one with an override.");

    public static VirtualServerWarning ResourceRenameIgnored(string server, string uri) =>
        new(ResourceRenameIgnoredCode, $"{server}:{uri}",
            "A resource keeps its URI, which clients read it by; the override's name is ignored (its description applies).");

    private static string Noun(MemberKind kind) => kind switch
    {
        MemberKind.Tool => "tool",
        MemberKind.Prompt => "prompt",
        _ => "resource",
    };
}
