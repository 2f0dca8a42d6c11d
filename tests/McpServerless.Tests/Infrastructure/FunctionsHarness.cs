using System.Net;
using System.Reflection;
using McpServerless.AdminFunctions;
using McpServerless.Client;
using McpServerless.Model;
using McpServerless.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace McpServerless.Tests.Infrastructure;

/// <summary>
/// The Functions app's HTTP triggers on a real loopback port, without the Functions host (which cannot run
/// here). Every <see cref="FunctionAttribute"/> method of <see cref="AdminHttpFunctions"/> is mapped at the
/// route and methods of its <see cref="HttpTriggerAttribute"/>, with the services <c>Program.cs</c> registers;
/// each request builds the function class from DI, calls the method with the real <see cref="HttpRequest"/>
/// and route values, and executes the returned result, as the worker's ASP.NET Core integration does.
/// Settings arrive as app settings do, so a test can pick another store with configuration alone
/// (e.g. <c>McpProxy:Storage:Provider=Table</c> and an Azurite connection string).
/// </summary>
public sealed class FunctionsHarness : IAdminTestHost
{
    private readonly WebApplication _app;

    private FunctionsHarness(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
        Http = new HttpClient { BaseAddress = new Uri(root, FunctionRoutes.Base + "/"), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new McpProxyClient(Http, IAdminTestHost.AdminToken);
    }

    /// <summary>The app's root, where <c>/healthz</c> is.</summary>
    public Uri Root { get; }

    public HttpClient Http { get; }

    public McpProxyClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<FunctionsHarness> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["McpProxy:AdminTokens:0"] = IAdminTestHost.AdminToken });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAdminFunctions(builder.Configuration);

        var app = builder.Build();
        MapTriggers(app, typeof(AdminHttpFunctions));
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FunctionsHarness(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async Task<McpDefinition?> GetStoredAsync(string name) =>
        (await _app.Services.GetRequiredService<McpRegistry>().GetAsync(name))?.Definition;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void MapTriggers(WebApplication app, Type functions)
    {
        foreach (var method in functions.GetMethods().Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
        {
            var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(a => a is not null)!;
            var methods = trigger.Methods!.Select(m => m.ToUpperInvariant()).ToArray();
            app.MapMethods("/" + trigger.Route, methods, (HttpContext context) => InvokeAsync(context, method));
        }
    }

    private static async Task InvokeAsync(HttpContext context, MethodInfo method)
    {
        var instance = ActivatorUtilities.CreateInstance(context.RequestServices, method.DeclaringType!);
        var arguments = method.GetParameters()
            .Select(p => p.ParameterType == typeof(HttpRequest) ? context.Request : context.GetRouteValue(p.Name!))
            .ToArray();
        var result = await (Task<IResult>)method.Invoke(instance, arguments)!;
        await result.ExecuteAsync(context);
    }
}
