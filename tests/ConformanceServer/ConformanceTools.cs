using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.ConformanceServer;

/// <summary>The tools the suite's server scenarios call, by the names and with the results their descriptions give.</summary>
[McpServerToolType]
public sealed class ConformanceTools
{
    /// <summary>A 1x1 red PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    /// <summary>A WAV header with one silent sample.</summary>
    private static readonly byte[] Wav = Convert.FromBase64String("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==");

    [McpServerTool(Name = "test_simple_text"), Description("Returns simple text content.")]
    public static string SimpleText() => "This is a simple text response for testing.";

    [McpServerTool(Name = "test_image_content"), Description("Returns image content (a PNG).")]
    public static ImageContentBlock Image() => ImageContentBlock.FromBytes(Png, "image/png");

    [McpServerTool(Name = "test_audio_content"), Description("Returns audio content (a WAV).")]
    public static AudioContentBlock Audio() => AudioContentBlock.FromBytes(Wav, "audio/wav");

    [McpServerTool(Name = "test_embedded_resource"), Description("Returns an embedded text resource.")]
    public static EmbeddedResourceBlock EmbeddedResource() => new()
    {
        Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." },
    };

    [McpServerTool(Name = "test_multiple_content_types"), Description("Returns text, image and resource content together.")]
    public static ContentBlock[] MultipleContentTypes() =>
    [
        new TextContentBlock { Text = "Multiple content types test:" },
        ImageContentBlock.FromBytes(Png, "image/png"),
        new EmbeddedResourceBlock
        {
            Resource = new TextResourceContents { Uri = "test://mixed-content-resource", MimeType = "application/json", Text = """{"test":"data","value":123}""" },
        },
    ];

    [McpServerTool(Name = "test_tool_with_logging"), Description("Sends three info log messages while it runs.")]
    public static async Task<string> ToolWithLogging(McpServer server, CancellationToken cancellationToken)
    {
        string[] messages = ["Tool execution started", "Tool processing data", "Tool execution completed"];
        for (var i = 0; i < messages.Length; i++)
        {
            if (i > 0) await Task.Delay(50, cancellationToken);
            await Log(server, LoggingLevel.Info, messages[i], cancellationToken);
        }
        return "Tool with logging executed successfully";
    }

    [McpServerTool(Name = "test_logging_tool"), Description("Logs at info level; sends nothing when the client asked for no log level.")]
    public static async Task<string> LoggingTool(McpServer server, CancellationToken cancellationToken)
    {
        // Clients of 2026-07-28 opt in per request (_meta log level); the SDK tells the level through LoggingLevel.
        if (server.LoggingLevel is { } level && level <= LoggingLevel.Info)
            await Log(server, LoggingLevel.Info, "logging tool ran", cancellationToken);
        return "Logged at info level when asked to.";
    }

    [McpServerTool(Name = "test_tool_with_progress"), Description("Reports progress 0, 50 and 100 of 100.")]
    public static async Task<string> ToolWithProgress(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        foreach (var progress in new[] { 0, 50, 100 })
        {
            if (progress > 0) await Task.Delay(50, cancellationToken);
            // Awaited, so every update precedes the answer on the wire.
            if (context.Params?.ProgressToken is { } token)
                await context.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = progress, Total = 100 }, cancellationToken: cancellationToken);
        }
        return "Tool with progress executed successfully";
    }

    [McpServerTool(Name = "test_error_handling"), Description("Always fails; the result has isError set.")]
    public static string ErrorHandling() => throw new McpException("This tool intentionally returns an error for testing");

    [McpServerTool(Name = "test_sampling"), Description("Asks the client's model to answer the prompt (sampling).")]
    public static async Task<string> Sampling(McpServer server, [Description("The prompt to send to the LLM")] string prompt, CancellationToken cancellationToken)
    {
        var result = await server.SampleAsync(new CreateMessageRequestParams
        {
            Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
            MaxTokens = 100,
        }, cancellationToken);
        return $"LLM response: {result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text}";
    }

    [McpServerTool(Name = "test_missing_capability"), Description("Needs the client's sampling capability; refuses when it was not declared.")]
    public static async Task<string> MissingCapability(McpServer server, CancellationToken cancellationToken)
    {
        if (server.ClientCapabilities?.Sampling is null)
            throw new MissingRequiredClientCapabilityException(new ClientCapabilities { Sampling = new SamplingCapability() });
        return await Sampling(server, "Say hello.", cancellationToken);
    }

    [McpServerTool(Name = "test_elicitation"), Description("Asks the client's user for a username and an email (elicitation).")]
    public static async Task<string> Elicitation(McpServer server, [Description("The message to show the user")] string message, CancellationToken cancellationToken)
    {
        var result = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = message,
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties =
                {
                    ["username"] = new ElicitRequestParams.StringSchema { Description = "User's response" },
                    ["email"] = new ElicitRequestParams.StringSchema { Description = "User's email address" },
                },
                Required = ["username", "email"],
            },
        }, cancellationToken);
        return $"User response: action={result.Action}, content={Describe(result.Content)}";
    }

    [McpServerTool(Name = "test_streaming_elicitation"), Description("Asks the client's user to confirm; a 2026-07-28 client gets the question as an input-required result, never as a request on the stream.")]
    public static async Task<string> StreamingElicitation(McpServer server, CancellationToken cancellationToken)
    {
        var result = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = "Continue?",
            RequestedSchema = new ElicitRequestParams.RequestSchema { Properties = { ["confirm"] = new ElicitRequestParams.BooleanSchema { Description = "Continue" } } },
        }, cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Describe(result.Content)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1034_defaults"), Description("Elicits one field of each primitive type, each with a default (SEP-1034).")]
    public static async Task<string> ElicitationDefaults(McpServer server, CancellationToken cancellationToken)
    {
        var result = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = "Test elicitation with default values for primitive types",
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties =
                {
                    ["name"] = new ElicitRequestParams.StringSchema { Description = "Name", Default = "John Doe" },
                    ["age"] = new ElicitRequestParams.NumberSchema { Type = "integer", Description = "Age", Default = 30 },
                    ["score"] = new ElicitRequestParams.NumberSchema { Description = "Score", Default = 95.5 },
                    ["status"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema { Description = "Status", Enum = ["active", "inactive", "pending"], Default = "active" },
                    ["verified"] = new ElicitRequestParams.BooleanSchema { Description = "Verified", Default = true },
                },
            },
        }, cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Describe(result.Content)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1330_enums"), Description("Elicits the five enum schema variants (SEP-1330).")]
    public static async Task<string> ElicitationEnums(McpServer server, CancellationToken cancellationToken)
    {
        var result = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = "Test elicitation with enum schema variants",
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties =
                {
                    ["untitledSingle"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema { Enum = ["option1", "option2", "option3"] },
                    ["titledSingle"] = new ElicitRequestParams.TitledSingleSelectEnumSchema
                    {
                        OneOf = [new() { Const = "value1", Title = "First Option" }, new() { Const = "value2", Title = "Second Option" }, new() { Const = "value3", Title = "Third Option" }],
                    },
#pragma warning disable MCP9001 // The legacy titled enum is one of the five variants the scenario asks for.
                    ["legacyEnum"] = new ElicitRequestParams.LegacyTitledEnumSchema { Enum = ["opt1", "opt2", "opt3"], EnumNames = ["Option One", "Option Two", "Option Three"] },
#pragma warning restore MCP9001
                    ["untitledMulti"] = new ElicitRequestParams.UntitledMultiSelectEnumSchema { Items = new() { Enum = ["option1", "option2", "option3"] } },
                    ["titledMulti"] = new ElicitRequestParams.TitledMultiSelectEnumSchema
                    {
                        Items = new() { AnyOf = [new() { Const = "value1", Title = "First Choice" }, new() { Const = "value2", Title = "Second Choice" }, new() { Const = "value3", Title = "Third Choice" }] },
                    },
                },
            },
        }, cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Describe(result.Content)}";
    }

    [McpServerTool(Name = "test_param_header"), Description("Echoes a region given both in the arguments and as the Mcp-Param-Region header.")]
    public static string ParamHeader([McpHeader("Region"), Description("The deployment region")] string region, [Description("Anything")] string? query = null) =>
        $"region {region}{(query is null ? "" : $", query {query}")}";

    [McpServerTool(Name = "test_trigger_tool_change"), Description("Adds test_dynamic_tool, or removes it when present; clients see tools/list_changed.")]
    public static string TriggerToolChange(McpServer server)
    {
        var tools = server.ServerOptions.ToolCollection!;
        if (tools.TryGetPrimitive("test_dynamic_tool", out var existing))
        {
            tools.Remove(existing);
            return "test_dynamic_tool removed";
        }
        tools.Add(McpServerTool.Create(() => "This is a dynamically added tool.", new() { Name = "test_dynamic_tool", Description = "Added by test_trigger_tool_change." }));
        return "test_dynamic_tool added";
    }

    [McpServerTool(Name = "test_trigger_prompt_change"), Description("Adds test_dynamic_prompt, or removes it when present; clients see prompts/list_changed.")]
    public static string TriggerPromptChange(McpServer server)
    {
        var prompts = server.ServerOptions.PromptCollection!;
        if (prompts.TryGetPrimitive("test_dynamic_prompt", out var existing))
        {
            prompts.Remove(existing);
            return "test_dynamic_prompt removed";
        }
        prompts.Add(McpServerPrompt.Create(() => "This is a dynamically added prompt.", new() { Name = "test_dynamic_prompt", Description = "Added by test_trigger_prompt_change." }));
        return "test_dynamic_prompt added";
    }

    /// <summary>A tool whose input schema uses JSON Schema 2020-12 keywords that must survive listing unchanged (SEP-1613, SEP-2106).</summary>
    public static McpServerTool JsonSchema202012Tool()
    {
        var tool = McpServerTool.Create(() => "JSON Schema 2020-12 tool executed successfully",
            new() { Name = "json_schema_2020_12_tool", Description = "Tool with JSON Schema 2020-12 features" });
        tool.ProtocolTool.InputSchema = JsonElement.Parse("""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "$defs": {
                "address": {
                  "$anchor": "addressDef",
                  "type": "object",
                  "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
                }
              },
              "properties": {
                "name": { "type": "string" },
                "address": { "$ref": "#/$defs/address" },
                "contactMethod": { "type": "string", "enum": ["phone", "email"] },
                "phone": { "type": "string" },
                "email": { "type": "string" }
              },
              "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
              "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
              "then": { "required": ["phone"] },
              "else": { "required": ["email"] },
              "additionalProperties": false
            }
            """);
        return tool;
    }

    private static Task Log(McpServer server, LoggingLevel level, string message, CancellationToken cancellationToken) =>
        server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification, new LoggingMessageNotificationParams
        {
            Level = level,
            Logger = "conformance",
            Data = JsonSerializer.SerializeToElement(message, ConformanceJson.Default.String),
        }, cancellationToken: cancellationToken);

    private static string Describe(IDictionary<string, JsonElement>? content) =>
        content is null ? "{}" : "{" + string.Join(", ", content.Select(p => $"{p.Key}: {p.Value.GetRawText()}")) + "}";
}
