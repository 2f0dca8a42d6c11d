namespace McpServerless.Proxy.Downstream;

/// <summary>
/// How the aggregated endpoint names tools and prompts: <c>{server}__{name}</c>. A name is routed to the server whose
/// name followed by <c>__</c> begins it, the longest such server name winning, so <c>a__b__c</c> goes to server
/// <c>a__b</c> as <c>c</c> when both <c>a</c> and <c>a__b</c> exist; the <c>a</c> entry <c>b__c</c> that would collide
/// is then not exposed at all.
/// </summary>
internal static class AggregateNaming
{
    public const string Separator = "__";

    public static string Expose(string server, string name) => $"{server}{Separator}{name}";

    /// <summary>The server among <paramref name="servers"/> that <paramref name="exposed"/> routes to, and the name it has there; null for none.</summary>
    public static (string Server, string Name)? Route(string exposed, IEnumerable<string> servers)
    {
        string? best = null;
        foreach (var server in servers)
        {
            if (exposed.Length > server.Length + Separator.Length && exposed.StartsWith(server, StringComparison.Ordinal)
                && exposed.AsSpan(server.Length).StartsWith(Separator, StringComparison.Ordinal)
                && (best is null || server.Length > best.Length))
                best = server;
        }
        return best is null ? null : (best, exposed[(best.Length + Separator.Length)..]);
    }

    /// <summary>Whether <paramref name="server"/>'s entry <paramref name="name"/> is exposed: its exposed name routes back to it.</summary>
    public static bool IsExposed(string server, string name, IEnumerable<string> servers) =>
        Route(Expose(server, name), servers) is { } route && route.Server == server;
}
