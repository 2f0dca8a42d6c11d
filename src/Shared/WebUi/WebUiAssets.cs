using System.Collections.Frozen;
using System.Security.Cryptography;
using McpServerless.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace McpServerless.WebUi;

/// <summary>
/// The operator console: static files embedded in this assembly (<c>WebUi/wwwroot</c>), served the same way by the
/// gateway (<c>/ui/</c>) and the Functions app (<c>/gateway/ui/</c>). The pages call the admin API relative to where
/// they are served (<c>../admin/…</c>), so each host's console talks to the API beside it.
/// <para>
/// Every answer carries a strict Content-Security-Policy (scripts, styles and connections from this origin only, no
/// inline code, Trusted Types so no HTML is ever parsed from strings) and is revalidated by ETag on each load, as the
/// file names carry no content hash.
/// </para>
/// </summary>
public static class WebUiAssets
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
        "require-trusted-types-for 'script'; trusted-types 'none'";

    private const string ResourcePrefix = "webui/";
    private const string SettingsFile = "settings.json";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>
    /// Answers a request for <paramref name="path"/> below the console's root: a file, the console's
    /// <c>settings.json</c> (what this host offers besides the admin API), or 404.
    /// </summary>
    /// <param name="path">The route's catch-all value: empty for the root.</param>
    public static IResult Serve(HttpContext context, string? path, WebUiSettings settings)
    {
        if (string.IsNullOrEmpty(path))
        {
            // Relative URLs in the page ("js/main.js", "../admin/mcps") need the root to end in '/'. The redirect is
            // relative too ("/gateway/ui" → "ui/"), so it holds behind a front proxy that adds or strips a prefix.
            if (context.Request.Path.Value?.EndsWith('/') != true) return Results.Redirect("ui/");
            path = "index.html";
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";

        if (path == SettingsFile)
        {
            headers.CacheControl = "no-store";
            return TypedResults.Json(settings, GatewayJson.Default.WebUiSettings);
        }
        if (!Assets.TryGetValue(path, out var asset))
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "The console has no such file.");

        headers.CacheControl = "no-cache";
        return TypedResults.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }

    /// <summary>The embedded file names, relative to the console's root.</summary>
    public static IEnumerable<string> Files => Assets.Keys;

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(WebUiAssets).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var name = resource[ResourcePrefix.Length..];
            var contentType = types.TryGetContentType(name, out var known) ? known : "application/octet-stream";
            if (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType.EndsWith("json", StringComparison.Ordinal))
                contentType += "; charset=utf-8";
            var hash = Convert.ToBase64String(SHA256.HashData(content), 0, 12).Replace('+', '-').Replace('/', '_');
            assets[name] = new Asset(content, contentType, new EntityTagHeaderValue($"\"{hash}\""));
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, EntityTagHeaderValue ETag);
}

/// <summary>
/// What a host tells its console besides the admin API (<c>settings.json</c>, read before sign-in; never a secret).
/// </summary>
/// <param name="ProxyEndpoints">
/// Whether the proxy endpoints (<c>/{name}/stream</c>) share the console's origin, so tools can be tried from it.
/// The Functions app has none.
/// </param>
/// <param name="SignIn">
/// The sign-in methods the console offers, in order: <c>token</c> (an admin bearer token). OAuth adds its own here.
/// </param>
public sealed record WebUiSettings(bool ProxyEndpoints, IReadOnlyList<string> SignIn)
{
    public static WebUiSettings Gateway { get; } = new(ProxyEndpoints: true, SignIn: ["token"]);

    public static WebUiSettings AdminOnly { get; } = new(ProxyEndpoints: false, SignIn: ["token"]);
}
