using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.TestMcpServer;

[McpServerToolType]
public sealed class TestTools
{
    public static void Configure(McpServerOptions options)
    {
        options.ServerInfo = new Implementation { Name = "test-mcp-server", Version = "1.0.0" };
        options.ServerInstructions = "Tools for testing the gateway.";
    }

    [McpServerTool(Name = "echo"), Description("Returns the message.")]
    public static string Echo([Description("Text to echo")] string message) => message;

    [McpServerTool(Name = "echo_meta"), Description("Returns the params._meta of its own request as JSON: what reached this server of the caller's trace context.")]
    public static string EchoMeta(RequestContext<CallToolRequestParams> context) => context.Params?.Meta?.ToJsonString() ?? "{}";

    [McpServerTool(Name = "add"), Description("Adds two integers.")]
    public static int Add(int a, int b) => a + b;

    [McpServerTool(Name = "sleep"), Description("Waits, then answers; honours cancellation.")]
    public static async Task<string> Sleep(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return $"slept {milliseconds}ms";
    }

    [McpServerTool(Name = "progress"), Description("Reports progress in steps, then answers.")]
    public static async Task<string> Progress(RequestContext<CallToolRequestParams> context, int steps, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= steps; i++)
        {
            // Awaited rather than IProgress.Report (fire-and-forget in the SDK), so every update precedes the answer on the wire.
            if (context.Params?.ProgressToken is { } token)
                await context.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = i, Total = steps, Message = $"step {i}" }, cancellationToken: cancellationToken);
            await Task.Delay(10, cancellationToken);
        }
        return $"done {steps}";
    }

    [McpServerTool(Name = "fail"), Description("Always fails with the message.")]
    public static string Fail(string message) => throw new McpException(message);

    [McpServerTool(Name = "big"), Description("Returns a text of the given size in kilobytes.")]
    public static string Big(int kilobytes) => new('x', kilobytes * 1024);

    [McpServerTool(Name = "whoami"), Description("Returns this server's process id.")]
    public static string WhoAmI() => Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [McpServerTool(Name = "caller"), Description("Returns the subject of the access token the request carried, or 'anonymous'.")]
    public static string Caller(RequestContext<CallToolRequestParams> context) => context.User?.FindFirst("sub")?.Value ?? "anonymous";

    [McpServerTool(Name = "env"), Description("Returns an environment variable of the server process.")]
    public static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "";

    [McpServerTool(Name = "read_secret"), Description("A tool that gateways may filter out.")]
    public static string ReadSecret() => "the secret";

    [McpServerTool(Name = "ask"), Description("Asks the client's user a question (elicitation) and returns the answer.")]
    public static async Task<string> Ask(McpServer server, string question, CancellationToken cancellationToken)
    {
        var result = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = question,
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties = { ["answer"] = new ElicitRequestParams.StringSchema { Description = "Your answer" } },
            },
        }, cancellationToken);
        return result.Action == "accept" && result.Content?.TryGetValue("answer", out var answer) == true ? $"answer: {answer.GetString()}" : result.Action;
    }

#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on; gateways still relay it for earlier revisions.
    [McpServerTool(Name = "summarize"), Description("Asks the client's model to summarize the text (sampling).")]
    public static async Task<string> Summarize(McpServer server, string text, CancellationToken cancellationToken)
    {
        var result = await server.SampleAsync(new CreateMessageRequestParams
        {
            Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = $"Summarize: {text}" }] }],
            MaxTokens = 100,
        }, cancellationToken);
        return $"{result.Model}: {string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text))}";
    }
#pragma warning restore MCP9005

    [McpServerTool(Name = "touch"), Description("Tells the subscribers of a resource that it changed; returns how many there were.")]
    public static async Task<string> Touch(McpServer server, string uri, CancellationToken cancellationToken) =>
        $"notified {await TestSubscriptions.TouchAsync(server, uri, cancellationToken)}";

    [McpServerTool(Name = "add_tool"), Description("Adds a tool named after the argument, so the server sends tools/list_changed.")]
    public static async Task<string> AddTool(McpServer server, string name, CancellationToken cancellationToken)
    {
        server.ServerOptions.ToolCollection?.Add(McpServerTool.Create(() => $"I am {name}", new McpServerToolCreateOptions { Name = name }));
        await server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification, cancellationToken);
        return $"added {name}";
    }
}

[McpServerPromptType]
public sealed class TestPrompts
{
    [McpServerPrompt(Name = "greeting"), Description("Greets someone.")]
    public static string Greeting(string name) => $"Hello, {name}!";
}

[McpServerResourceType]
public sealed class TestResources
{
    [McpServerResource(UriTemplate = "test://static", Name = "static"), Description("A fixed text.")]
    public static string Static() => "static content";

    [McpServerResource(UriTemplate = "test://items/{id}", Name = "item"), Description("An item by id.")]
    public static string Item(string id) => $"item {id}";
}
