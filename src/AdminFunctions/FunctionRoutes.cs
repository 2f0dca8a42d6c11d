using McpServerless.Admin;

namespace McpServerless.AdminFunctions;

/// <summary>
/// The HTTP trigger routes (host.json sets an empty route prefix, so these are the full paths).
/// <para>
/// The Functions host reserves every route that begins with <c>admin</c> for its own management API: it
/// refuses to load a trigger whose route starts with it ("The specified route conflicts with one or more
/// built in routes"), whatever the route prefix, and answers <c>/admin/*</c> itself. So the admin API lives
/// under <see cref="Base"/>: <c>/gateway/admin/mcps</c> here is <c>/admin/mcps</c> on the local host, with
/// the same methods, bodies and status codes. A client whose base address is <c>https://app/gateway/</c>
/// (the typed <c>McpProxyClient</c> uses relative paths) reaches every route, health included.
/// </para>
/// </summary>
public static class FunctionRoutes
{
    public const string Base = "gateway";

    /// <summary><c>/healthz</c> and its probes (<c>live</c>, <c>ready</c>), where the local host has them.</summary>
    public const string Health = AdminRoutes.Health;

    /// <summary>The same checks under <see cref="Base"/>, for clients configured with the base address.</summary>
    public const string BaseHealth = Base + "/" + Health;

    public const string Mcps = Base + "/" + AdminRoutes.Mcps;

    public const string Mcp = Base + "/" + AdminRoutes.Mcp;

    public const string VirtualServers = Base + "/" + AdminRoutes.VirtualServers;

    public const string VirtualServer = Base + "/" + AdminRoutes.VirtualServer;

    public const string Tools = Base + "/" + AdminRoutes.Tools;

    public const string Metrics = Base + "/" + AdminRoutes.Metrics;

    public const string Audit = Base + "/" + AdminRoutes.Audit;

    /// <summary>The operator console and its files (<c>/gateway/ui/</c>), beside the admin API it calls.</summary>
    public const string WebUi = Base + "/ui/{*path}";
}
