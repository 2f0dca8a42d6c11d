using McpServerless.ConformanceServer;

// The project's own conformance upstream: the tools, resources and prompts the official MCP conformance suite
// (`@modelcontextprotocol/conformance`) names in its server scenarios, built with the official C# SDK.
//   stdio:            McpServerless.ConformanceServer stdio
//   streamable-http:  McpServerless.ConformanceServer http <port>   (serves /mcp; stateful for clients that
//                     initialize, stateless for 2026-07-28 clients; port 0 picks a free one, and the URL is
//                     printed on the first line of standard output)
// Either takes --input-required results|requests: how the input-required tools ask the client for input, the
// 2026-07-28 way (input-required results, the default) or the 2025-11-25 way (requests during the call).
// The option is taken out first, so the rest reads as before.
var inputRequired = InputRequiredMode.Results;
var option = Array.IndexOf(args, "--input-required");
if (option >= 0)
{
    if (option + 1 >= args.Length || !Enum.TryParse(args[option + 1], ignoreCase: true, out inputRequired)) return Usage();
    args = [.. args[..option], .. args[(option + 2)..]];
}
var mode = args.FirstOrDefault() ?? "stdio";
if (mode == "stdio")
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddMcpServer(ConformanceFeatures.Configure).WithStdioServerTransport().WithConformanceFeatures(inputRequired);
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
        .WithConformanceFeatures(inputRequired);
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
    return Usage();
}
return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: McpServerless.ConformanceServer (stdio | http <port>) [--input-required results|requests]");
    return 2;
}
