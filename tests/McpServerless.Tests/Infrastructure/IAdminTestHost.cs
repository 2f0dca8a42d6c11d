using System.Net.Http.Headers;
using McpServerless.Client;
using McpServerless.Model;

namespace McpServerless.Tests.Infrastructure;

/// <summary>A running admin API (the local host or the Functions triggers) that the shared admin suite drives over HTTP.</summary>
public interface IAdminTestHost : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token";

    /// <summary>No credentials; its base address is the admin API's base (relative paths: "healthz", "admin/mcps").</summary>
    HttpClient Http { get; }

    McpProxyClient Admin { get; }

    /// <summary>The stored definition, secrets included, read behind the API.</summary>
    Task<McpDefinition?> GetStoredAsync(string name);

    HttpRequestMessage AdminRequest(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return request;
    }

    /// <summary>The absolute path a relative admin path has on this host ("admin/mcps" → "/admin/mcps").</summary>
    string PathOf(string relative) => new Uri(Http.BaseAddress!, relative).AbsolutePath;
}
