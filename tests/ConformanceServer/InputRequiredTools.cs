using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.ConformanceServer;

/// <summary>
/// The tools of the suite's <c>input-required-result-*</c> scenarios (SEP-2322), by the names, keys and questions the
/// scenarios give. Each is written once; <see cref="ClientInputs"/> gets the answers the 2026-07-28 way (input-required
/// results) or the 2025-11-25 way (requests during the call), as the server was started.
/// </summary>
[McpServerToolType]
public sealed class InputRequiredTools
{
    [McpServerTool(Name = "test_input_required_result_elicitation"), Description("Asks the user's name (key user_name) and greets them.")]
    public static async Task<string> Elicitation(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await inputs.For(context).AskAsync(new Dictionary<string, InputRequest> { ["user_name"] = Ask("What is your name?", "name") }, cancellationToken);
        return $"Hello, {answers.Field("user_name", "name")}!";
    }

    [McpServerTool(Name = "test_input_required_result_sampling"), Description("Asks the client's model for the capital of France (key capital_question).")]
    public static async Task<string> Sampling(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await inputs.For(context).AskAsync(new Dictionary<string, InputRequest> { ["capital_question"] = Sample("What is the capital of France?", 100) }, cancellationToken);
        return $"The client's model answered: {Text(answers.Sampling("capital_question"))}";
    }

    [McpServerTool(Name = "test_input_required_result_list_roots"), Description("Asks the client for its roots (key client_roots) and lists them.")]
    public static async Task<string> ListRoots(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await inputs.For(context).AskAsync(new Dictionary<string, InputRequest> { ["client_roots"] = Roots() }, cancellationToken);
        return Describe(answers.Roots("client_roots"));
    }

    [McpServerTool(Name = "test_input_required_result_request_state"), Description("Asks for a confirmation (key confirm); answers state-ok once it has it.")]
    public static async Task<string> RequestState(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken) =>
        $"state-ok: confirmed {await ConfirmAsync(inputs, context, cancellationToken)}";

    [McpServerTool(Name = "test_input_required_result_tampered_state"), Description("Asks for a confirmation (key confirm); a tampered requestState is refused.")]
    public static async Task<string> TamperedState(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken) =>
        $"Confirmed {await ConfirmAsync(inputs, context, cancellationToken)}.";

    [McpServerTool(Name = "test_input_required_result_multiple_inputs"), Description("Asks for a name, a greeting from the model and the roots at once (keys user_name, greeting, client_roots).")]
    public static async Task<string> MultipleInputs(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await inputs.For(context).AskAsync(new Dictionary<string, InputRequest>
        {
            ["user_name"] = Ask("What is your name?", "name"),
            ["greeting"] = Sample("Generate a greeting", 50),
            ["client_roots"] = Roots(),
        }, cancellationToken);
        return $"{Text(answers.Sampling("greeting"))}, {answers.Field("user_name", "name")}. {Describe(answers.Roots("client_roots"))}";
    }

    [McpServerTool(Name = "test_input_required_result_multi_round"), Description("Asks for a name (key step1), then a favourite colour (key step2).")]
    public static async Task<string> MultiRound(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var input = inputs.For(context);
        var name = (await input.AskAsync(new Dictionary<string, InputRequest> { ["step1"] = Ask("Step 1: What is your name?", "name") }, cancellationToken)).Field("step1", "name");
        var color = (await input.AskAsync(new Dictionary<string, InputRequest> { ["step2"] = Ask("Step 2: What is your favorite color?", "color") }, cancellationToken)).Field("step2", "color");
        return $"{name} likes {color}.";
    }

    [McpServerTool(Name = "test_input_required_result_capabilities"), Description("Asks only what the client declared: the model for a haiku (sampling), then the user to keep it (elicitation).")]
    public static async Task<string> Capabilities(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var input = inputs.For(context);
#pragma warning disable MCP9005 // Sampling is deprecated from 2026-07-28 on, but still asked for there.
        var samples = input.Capabilities.Sampling is not null;
#pragma warning restore MCP9005
        var elicits = input.Capabilities.Elicitation is not null;
        if (!samples && !elicits) return "The client declared neither sampling nor elicitation, so there was nothing to ask.";
        var haiku = samples
            ? Text((await input.AskAsync(new Dictionary<string, InputRequest> { ["haiku"] = Sample("Write a haiku about gateways.", 60) }, cancellationToken)).Sampling("haiku"))
            : "(no model to ask)";
        if (!elicits) return $"Haiku: {haiku}";
        var keep = (await input.AskAsync(new Dictionary<string, InputRequest> { ["keep"] = Ask($"Keep this haiku? {haiku}", "keep", boolean: true) }, cancellationToken)).Field("keep", "keep");
        return $"Haiku: {haiku} (kept: {keep})";
    }

    private static async Task<string> ConfirmAsync(ClientInputs inputs, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken) =>
        (await inputs.For(context).AskAsync(new Dictionary<string, InputRequest> { ["confirm"] = Ask("Please confirm", "ok", boolean: true) }, cancellationToken)).Field("confirm", "ok");

    /// <summary>A form elicitation of one required field.</summary>
    internal static InputRequest Ask(string message, string field, bool boolean = false) => InputRequest.ForElicitation(new ElicitRequestParams
    {
        Message = message,
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = { [field] = boolean ? new ElicitRequestParams.BooleanSchema() : new ElicitRequestParams.StringSchema() },
            Required = [field],
        },
    });

#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but still asked for there.
    private static InputRequest Sample(string prompt, int maxTokens) => InputRequest.ForSampling(new CreateMessageRequestParams
    {
        Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
        MaxTokens = maxTokens,
    });

    private static InputRequest Roots() => InputRequest.ForRootsList(new ListRootsRequestParams());

    private static string Text(CreateMessageResult result) => result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "(no text)";

    private static string Describe(ListRootsResult result) =>
        $"The client has {result.Roots.Count} root(s){(result.Roots.Count == 0 ? "" : ": " + string.Join(", ", result.Roots.Select(r => r.Uri)))}.";
#pragma warning restore MCP9005
}

/// <summary>The prompt of the suite's <c>input-required-result-non-tool-request</c> scenario: input-required results are not only for tools.</summary>
[McpServerPromptType]
public sealed class InputRequiredPrompts
{
    [McpServerPrompt(Name = "test_input_required_result_prompt"), Description("Asks the user what context to use (key user_context), then returns a prompt with it.")]
    public static async Task<GetPromptResult> Prompt(ClientInputs inputs, RequestContext<GetPromptRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await inputs.For(context).AskAsync(new Dictionary<string, InputRequest> { ["user_context"] = InputRequiredTools.Ask("What context should the prompt use?", "context") }, cancellationToken);
        return new GetPromptResult
        {
            Description = "A prompt with the context the user gave",
            Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = $"Answer with this context in mind: {answers.Field("user_context", "context")}" } }],
        };
    }
}
