using System.Globalization;
using System.Net;

// The floor the gateway is measured against: one .NET HTTP hop. YARP forwards every request (POST, the GET stream,
// DELETE) unchanged to the upstream, with the same host defaults as the gateway (Kestrel, server GC).
//   McpServerless.Bench.YarpForwarder <port> <upstream base address, e.g. http://127.0.0.1:5000/>
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.Services.AddHttpForwarder();

var app = builder.Build();
app.MapForwarder("/{**path}", args[1]);
await app.RunAsync();
