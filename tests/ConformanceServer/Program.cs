using McpServerless.ConformanceServer;

// The project's own conformance upstream: the tools, resources and prompts the official MCP conformance suite
// (`@modelcontextprotocol/conformance`) names in its server scenarios, built with the official C# SDK.
//   stdio:            McpServerless.ConformanceServer stdio
//   streamable-http:  McpServerless.ConformanceServer http <port>   (serves /mcp; stateful for clients that
//                     initialize, stateless for 2026-07-28 clients; port 0 picks a free one, and the URL is
//                     printed on the first line of standard output)
var mode = args.FirstOrDefault() ?? "stdio";
if (mode == "stdio")
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddMcpServer(ConformanceFeatures.Configure).WithStdioServerTransport().WithConformanceFeatures();
    await builder.Build().RunAsync();
}
else if (mode == "http" && args.Length == 2 && int.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out var port))
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
    // A loopback server must refuse other Host names (DNS rebinding): ASP.NET Core's host filtering answers them 400.
    builder.Services.AddHostFiltering(o => o.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"]);
    builder.Services.AddMcpServer(ConformanceFeatures.Configure)
        .WithHttpTransport(o => o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.StatefulForInitializeClients)
        .WithConformanceFeatures();
    var app = builder.Build();
    app.UseHostFiltering();
    app.MapMcp("/mcp");
    await app.StartAsync();
    var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
        .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
    Console.WriteLine($"{address}/mcp");
    await app.WaitForShutdownAsync();
}
else
{
    Console.Error.WriteLine("usage: McpServerless.ConformanceServer stdio | http <port>");
    return 2;
}
return 0;
