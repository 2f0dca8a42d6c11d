using McpServerless.Proxy.Hosting;

var builder = WebApplication.CreateBuilder(args);
// "--servers file.json" preloads servers from a file in the common mcpServers format.
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--servers"] = "McpProxy:ServersFile" });
builder.AddMcpGateway();

var app = builder.Build();
app.MapMcpGateway();
await app.RunAsync();
