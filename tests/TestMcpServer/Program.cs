using McpServerless.TestMcpServer;

// A real MCP server built with the official SDK, for tests and benchmarks.
//   stdio:            McpServerless.TestMcpServer stdio
//   streamable-http:  McpServerless.TestMcpServer http <port>   (serves /mcp, and legacy SSE at /mcp/sse)
//                     ... http <port> <issuer> <audience>          (the same, only for access tokens from that issuer for
//                                                                   that audience, checked with no clock skew)
// Either takes --refuse-initialize: the server then speaks 2026-07-28 alone (see InitializeRefusal).
var refuseInitialize = args.Contains(InitializeRefusal.Flag);
args = [.. args.Where(a => a != InitializeRefusal.Flag)];
void Configure(ModelContextProtocol.Server.McpServerOptions options)
{
    TestTools.Configure(options);
    if (refuseInitialize) InitializeRefusal.Apply(options);
}

var mode = args.FirstOrDefault() ?? "stdio";
if (mode == "stdio")
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddMcpServer(Configure).WithStdioServerTransport().WithTools<TestTools>().WithPrompts<TestPrompts>().WithResources<TestResources>().WithTestSubscriptions();
    await builder.Build().RunAsync();
}
else
{
    var port = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
    builder.Services.AddMcpServer(Configure)
        .WithHttpTransport(o =>
        {
            o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCP9004 // The legacy SSE transport is what the gateway's SSE upstream path is tested against.
            o.EnableLegacySse = true;
#pragma warning restore MCP9004
        })
        .WithTools<TestTools>().WithPrompts<TestPrompts>().WithResources<TestResources>().WithTestSubscriptions();
    var protect = args.Length >= 4;
    if (protect)
    {
        builder.Services.AddAuthorization();
        builder.Services.AddAuthentication().AddJwtBearer(jwt =>
        {
            jwt.Authority = args[2];
            jwt.Audience = args[3];
            jwt.RequireHttpsMetadata = false; // the tests' authorization server is on loopback
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters.ClockSkew = TimeSpan.Zero;
        });
    }
    var app = builder.Build();
    var mcp = app.MapMcp("/mcp");
    if (protect) mcp.RequireAuthorization();
    await app.RunAsync();
}
