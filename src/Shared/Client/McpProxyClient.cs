using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using McpServerless.Admin;
using McpServerless.Audit;
using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Serialization;
using Microsoft.AspNetCore.Http;

namespace McpServerless.Client;

/// <summary>
/// A typed client for the admin API, the .NET twin of the original engine's proxy client.
/// Failures throw <see cref="McpProxyClientException"/> carrying the status and the problem details.
/// </summary>
public sealed class McpProxyClient(HttpClient http, string? adminToken = null)
{
    public async Task<HealthBody> HealthAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "healthz", null, cancellationToken, authenticate: false);
        return await ReadAsync(response, GatewayJson.Default.HealthBody, cancellationToken);
    }

    public Task<McpEntry> RegisterAsync(McpDefinition definition, CancellationToken cancellationToken = default) =>
        WriteAsync(HttpMethod.Post, "admin/mcps", JsonContent.Create(definition, GatewayJson.Default.McpDefinition), null, GatewayJson.Default.McpEntry, cancellationToken);

    /// <param name="expectedVersion">When set, the update fails with 409 if the server changed since that version.</param>
    public Task<McpEntry> UpdateAsync(string name, McpDefinition definition, string? expectedVersion = null, CancellationToken cancellationToken = default) =>
        WriteAsync(HttpMethod.Put, McpPath(name), JsonContent.Create(definition, GatewayJson.Default.McpDefinition), expectedVersion, GatewayJson.Default.McpEntry, cancellationToken);

    public Task UnregisterAsync(string name, CancellationToken cancellationToken = default) => DeleteAsync(McpPath(name), null, cancellationToken);

    public async Task<IReadOnlyList<McpEntry>> ListAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "admin/mcps", null, cancellationToken);
        return (await ReadAsync(response, GatewayJson.Default.McpList, cancellationToken)).Mcps;
    }

    /// <returns>The entry, or null when no server has that name.</returns>
    public Task<McpEntry?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        FindAsync(McpPath(name), GatewayJson.Default.McpEntry, cancellationToken);

    public Task<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default) =>
        ListToolsAsync(virtualServer: null, cancellationToken);

    /// <param name="virtualServer">When set, only what that virtual server exposes, under its exposed names.</param>
    public async Task<IReadOnlyList<ToolInfo>> ListToolsAsync(string? virtualServer, CancellationToken cancellationToken = default)
    {
        var path = virtualServer is null ? "admin/tools" : $"admin/tools?virtual={Uri.EscapeDataString(virtualServer)}";
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        return (await ReadAsync(response, GatewayJson.Default.ToolList, cancellationToken)).Tools;
    }

    /// <returns>The stored entry, resolved against the servers' tools now (its warnings say what may be amiss).</returns>
    public Task<VirtualServerEntry> RegisterVirtualServerAsync(VirtualServerDefinition definition, CancellationToken cancellationToken = default) =>
        WriteAsync(HttpMethod.Post, "admin/virtual-servers", JsonContent.Create(definition, GatewayJson.Default.VirtualServerDefinition), null,
            GatewayJson.Default.VirtualServerEntry, cancellationToken);

    /// <param name="expectedVersion">When set, the update fails with 409 if the virtual server changed since that version.</param>
    public Task<VirtualServerEntry> UpdateVirtualServerAsync(string name, VirtualServerDefinition definition, string? expectedVersion = null, CancellationToken cancellationToken = default) =>
        WriteAsync(HttpMethod.Put, VirtualServerPath(name), JsonContent.Create(definition, GatewayJson.Default.VirtualServerDefinition), expectedVersion,
            GatewayJson.Default.VirtualServerEntry, cancellationToken);

    /// <param name="expectedVersion">When set, the delete fails with 409 if the virtual server changed since that version.</param>
    public Task UnregisterVirtualServerAsync(string name, string? expectedVersion = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(VirtualServerPath(name), expectedVersion, cancellationToken);

    public async Task<IReadOnlyList<VirtualServerEntry>> ListVirtualServersAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "admin/virtual-servers", null, cancellationToken);
        return (await ReadAsync(response, GatewayJson.Default.VirtualServerList, cancellationToken)).VirtualServers;
    }

    /// <returns>The entry, or null when no virtual server has that name.</returns>
    public Task<VirtualServerEntry?> GetVirtualServerAsync(string name, CancellationToken cancellationToken = default) =>
        FindAsync(VirtualServerPath(name), GatewayJson.Default.VirtualServerEntry, cancellationToken);

    public async Task<MetricsSnapshot> GetMetricsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "admin/metrics", null, cancellationToken);
        return await ReadAsync(response, GatewayJson.Default.MetricsSnapshot, cancellationToken);
    }

    /// <summary>
    /// One page of the audit log, newest first. Pass <see cref="AuditPage.Next"/> back as <see cref="AuditQuery.Cursor"/>
    /// (with the same filters) for the next page; it is null after the last.
    /// </summary>
    public async Task<AuditPage> GetAuditAsync(AuditQuery? query = null, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, AuditPath(query ?? new AuditQuery()), null, cancellationToken);
        return await ReadAsync(response, GatewayJson.Default.AuditPage, cancellationToken);
    }

    private static string AuditPath(AuditQuery query)
    {
        var parameters = new List<string> { $"limit={query.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}" };
        void Add(string name, string? value)
        {
            if (value is not null) parameters.Add($"{name}={Uri.EscapeDataString(value)}");
        }
        Add("server", query.Server);
        Add("tool", query.Tool);
        Add("caller", query.Caller);
        Add("since", query.Since?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("cursor", query.Cursor);
        return "admin/audit?" + string.Join('&', parameters);
    }

    private static string McpPath(string name) => $"admin/mcps/{Uri.EscapeDataString(name)}";

    private static string VirtualServerPath(string name) => $"admin/virtual-servers/{Uri.EscapeDataString(name)}";

    // A create or replace; with expectedVersion, only if the entry is still at that version (If-Match).
    private async Task<T> WriteAsync<T>(HttpMethod method, string path, HttpContent content, string? expectedVersion, JsonTypeInfo<T> entry, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, content, cancellationToken, expectedVersion: expectedVersion);
        return await ReadAsync(response, entry, cancellationToken);
    }

    private async Task DeleteAsync(string path, string? expectedVersion, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, path, null, cancellationToken, expectedVersion: expectedVersion);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private async Task<T?> FindAsync<T>(string path, JsonTypeInfo<T> entry, CancellationToken cancellationToken) where T : class
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync(response, entry, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken,
        bool authenticate = true, string? expectedVersion = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (authenticate && adminToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        if (expectedVersion is not null) request.Headers.IfMatch.Add(new EntityTagHeaderValue($"\"{expectedVersion}\""));
        return await http.SendAsync(request, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken)
            ?? throw new McpProxyClientException(response.StatusCode, null, "The gateway answered with an empty body.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        HttpValidationProblemDetails? problem = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            problem = await response.Content.ReadFromJsonAsync(ClientJson.Default.HttpValidationProblemDetails, cancellationToken);
        throw new McpProxyClientException(response.StatusCode, problem,
            $"The gateway answered {(int)response.StatusCode}: {problem?.Detail ?? problem?.Title ?? response.ReasonPhrase}");
    }
}

/// <summary>An admin call the gateway refused; <see cref="Problem"/> holds its problem details, when it sent them.</summary>
public sealed class McpProxyClientException(HttpStatusCode statusCode, HttpValidationProblemDetails? problem, string message)
    : HttpRequestException(message, null, statusCode)
{
    public HttpValidationProblemDetails? Problem { get; } = problem;
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HttpValidationProblemDetails))]
internal sealed partial class ClientJson : System.Text.Json.Serialization.JsonSerializerContext;
