using McpServerless.Admin;
using McpServerless.Configuration;
using McpServerless.Metrics;
using McpServerless.Model;
using McpServerless.Proxy.Hosting;
using McpServerless.Registry;
using McpServerless.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpServerless.Proxy;

/// <summary>
/// Hosts the gateway inside another program. <c>new McpProxyOptions()</c> holds the defaults (the Go
/// <c>DefaultConfig()</c>); the store defaults to in-memory.
/// <code>
/// await using var proxy = McpProxy.Create(new McpProxyOptions { Port = 0, AdminTokens = ["t"] });
/// await proxy.StartAsync();
/// await proxy.RegisterMcpAsync(new McpDefinition { Name = "echo", Transport = McpTransport.Stdio, Command = "echo" });
/// </code>
/// </summary>
public sealed class McpProxy : IMcpProxy
{
    private readonly WebApplication _app;
    private readonly McpRegistry _registry;
    private readonly IMcpRuntimeView _runtime;
    private readonly AdminApi _api;
    private Uri? _baseAddress;

    private McpProxy(WebApplication app)
    {
        _app = app;
        _registry = app.Services.GetRequiredService<McpRegistry>();
        _runtime = app.Services.GetRequiredService<IMcpRuntimeView>();
        _api = app.Services.GetRequiredService<AdminApi>();
    }

    /// <summary>The application's services, for hosts that need more than this interface.</summary>
    public IServiceProvider Services => _app.Services;

    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("The gateway has not been started.");

    /// <param name="configureBuilder">Further set-up, e.g. replacing services, before the app is built.</param>
    public static McpProxy Create(McpProxyOptions options, IMcpStore? store = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (store is not null) builder.Services.AddSingleton(store);
        builder.AddMcpGateway();
        builder.Services.Configure<McpProxyOptions>(bound => Copy(options, bound));
        configureBuilder?.Invoke(builder);

        var app = builder.Build();
        app.MapMcpGateway();
        return new McpProxy(app);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _baseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
        _baseAddress = null;
    }

    public Task<StoredMcp> RegisterMcpAsync(McpDefinition definition, CancellationToken cancellationToken = default) =>
        _registry.RegisterAsync(definition, cancellationToken);

    public Task<StoredMcp> UpdateMcpAsync(string name, McpDefinition definition, CancellationToken cancellationToken = default) =>
        _registry.UpdateAsync(name, definition, expectedVersion: null, cancellationToken);

    public Task UnregisterMcpAsync(string name, CancellationToken cancellationToken = default) =>
        _registry.UnregisterAsync(name, expectedVersion: null, cancellationToken);

    public async Task<IReadOnlyList<McpRuntimeStatus>> ListMcpsAsync(CancellationToken cancellationToken = default) =>
        [.. (await _api.ListEntriesAsync(cancellationToken)).Select(entry => entry.Status)];

    public async Task<McpDefinition?> GetMcpAsync(string name, CancellationToken cancellationToken = default) =>
        (await _registry.GetAsync(name, cancellationToken))?.Definition;

    public async Task<IReadOnlyList<ToolInfo>> ListToolsAsync(CancellationToken cancellationToken = default) =>
        await _runtime.ListToolsAsync(cancellationToken);

    public Task<HealthReport> HealthAsync(CancellationToken cancellationToken = default) =>
        _app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellationToken);

    public Task<MetricsSnapshot> GetMetricsAsync(CancellationToken cancellationToken = default) => _api.MetricsSnapshotAsync(cancellationToken);

    /// <summary>Stops the gateway if it runs (closing upstreams and their child processes), then releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_baseAddress is not null) await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void Copy(McpProxyOptions from, McpProxyOptions to)
    {
        to.Host = from.Host;
        to.Port = from.Port;
        to.BaseUrl = from.BaseUrl;
        to.AllowedHosts = [.. from.AllowedHosts];
        to.AllowedOrigins = [.. from.AllowedOrigins];
        to.ShutdownTimeout = from.ShutdownTimeout;
        to.AdminTokens = [.. from.AdminTokens];
        to.AdminAllowIPs = [.. from.AdminAllowIPs];
        to.TrustedProxies = [.. from.TrustedProxies];
        to.GlobalAuthTokens = [.. from.GlobalAuthTokens];
        to.ServersFile = from.ServersFile;
        to.MaxAdminBodyBytes = from.MaxAdminBodyBytes;
        to.ReconcileInterval = from.ReconcileInterval;
        to.InstanceId = from.InstanceId;
        to.Limits = from.Limits;
    }
}
