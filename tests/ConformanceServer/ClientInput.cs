using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.ConformanceServer;

/// <summary>How the input-required tools get their answers from the client (<c>--input-required</c>).</summary>
public enum InputRequiredMode
{
    /// <summary>
    /// The 2026-07-28 way: the call ends with an input-required result and an integrity-protected
    /// <c>requestState</c>; the client retries it with the responses. Needs a client of that revision.
    /// </summary>
    Results,

    /// <summary>
    /// The 2025-11-25 way: the call sends real <c>elicitation/create</c>, <c>sampling/createMessage</c> and
    /// <c>roots/list</c> requests and waits for the answers. Needs a session (stdio, or a client that initialized).
    /// </summary>
    Requests,
}

/// <summary>Asks the client for input one round at a time, in the way the server was started with.</summary>
public abstract class ClientInput
{
    /// <summary>
    /// The <c>_meta</c> key with which a server-to-client request names the input-request key it answers, so a gateway
    /// turning the request into an input-required result keeps the server's key (the gateway's convention).
    /// </summary>
    public const string InputKeyMeta = "mcpserverless/inputKey";

    private protected ClientInput(McpServer server) => Server = server;

    private protected McpServer Server { get; }

    /// <summary>What the client declared: for 2026-07-28 callers, on this request.</summary>
    public ClientCapabilities Capabilities => Server.ClientCapabilities ?? new();

    /// <summary>The client's answers to every request of the round, keyed as asked.</summary>
    public async ValueTask<InputAnswers> AskAsync(IReadOnlyDictionary<string, InputRequest> round, CancellationToken cancellationToken)
    {
        // A server must not ask what the client did not declare: that is -32021 with the capability it would need.
        foreach (var request in round.Values)
        {
            if (Required(request.Method) is { } required)
                throw new MissingRequiredClientCapabilityException(required, $"{request.Method} needs a client capability this request did not declare.");
        }
        return new InputAnswers(await AnswersAsync(round, cancellationToken));
    }

    private protected abstract ValueTask<IReadOnlyDictionary<string, InputResponse>> AnswersAsync(IReadOnlyDictionary<string, InputRequest> round, CancellationToken cancellationToken);

    // The capability a method needs that the client has not declared; null when declared.
    private ClientCapabilities? Required(string method) => method switch
    {
        RequestMethods.ElicitationCreate => Capabilities.Elicitation is null ? new() { Elicitation = new() } : null,
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but still asked for there.
        RequestMethods.SamplingCreateMessage => Capabilities.Sampling is null ? new() { Sampling = new() } : null,
        RequestMethods.RootsList => Capabilities.Roots is null ? new() { Roots = new() } : null,
#pragma warning restore MCP9005
        _ => throw new ArgumentException($"Not a client request: {method}.", nameof(method)),
    };
}

/// <summary>The client's responses to one round, read as the result type of the request each answers.</summary>
public sealed class InputAnswers(IReadOnlyDictionary<string, InputResponse> responses)
{
    public ElicitResult Elicitation(string key) => responses[key].Deserialize(InputResponse.ElicitResultJsonTypeInfo)!;

#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but still asked for there.
    public CreateMessageResult Sampling(string key) => responses[key].Deserialize(InputResponse.CreateMessageResultJsonTypeInfo)!;

    public ListRootsResult Roots(string key) => responses[key].Deserialize(InputResponse.ListRootsResultJsonTypeInfo)!;
#pragma warning restore MCP9005

    /// <summary>An accepted elicitation's field as text, or what the user did instead.</summary>
    public string Field(string key, string field)
    {
        var answer = Elicitation(key);
        if (!answer.IsAccepted) return $"({answer.Action})";
        return answer.Content?.TryGetValue(field, out var value) is true
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : "(not given)";
    }
}

/// <summary>Makes the <see cref="ClientInput"/> of one request.</summary>
public sealed class ClientInputs(InputRequiredMode mode, IDataProtectionProvider dataProtection)
{
    // The state only has to outlive the client's answering: a user reading a question, a model answering one.
    private static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);

    private readonly ITimeLimitedDataProtector _protector =
        dataProtection.CreateProtector("McpServerless.ConformanceServer.RequestState").ToTimeLimitedDataProtector();

    public ClientInput For<TParams>(RequestContext<TParams> context) where TParams : RequestParams =>
        mode == InputRequiredMode.Results && TakesResults(context)
            ? new InputRequiredResults(context.Server, context.Params, Target(context), _protector)
            : new ServerRequests(context.Server);

    // A server of both revisions asks each client its own way: a session of an earlier revision gets real requests, as
    // the SDK would send them itself, but with the keys as hints (the SDK's own resolution drops them).
    private static bool TakesResults<TParams>(RequestContext<TParams> context) where TParams : RequestParams =>
        (context.JsonRpcRequest.Context?.ProtocolVersion ?? context.Server.NegotiatedProtocolVersion) is not { } version
        || string.CompareOrdinal(version, "2026-07-28") >= 0;

    // What a state is good for: the request it was issued on (its method and the tool or prompt it names).
    private static string Target<TParams>(RequestContext<TParams> context) where TParams : RequestParams =>
        context.JsonRpcRequest.Method + " " + context.Params switch
        {
            CallToolRequestParams call => call.Name,
            GetPromptRequestParams prompt => prompt.Name,
            ReadResourceRequestParams read => read.Uri,
            _ => "",
        };

    /// <summary>
    /// The 2026-07-28 way, written so a handler reads as one pass: each retry runs it again from the top, and a round
    /// whose answers are all known (from the protected state of earlier rounds, or this request's
    /// <c>inputResponses</c>) returns them; the first round with an answer missing ends the call with an
    /// input-required result asking for what is missing, carrying everything answered so far in the new state.
    /// </summary>
    private sealed class InputRequiredResults : ClientInput
    {
        private readonly ITimeLimitedDataProtector _protector;
        private readonly string _target;
        private readonly IDictionary<string, InputResponse>? _responses;
        private readonly Dictionary<string, JsonElement> _answered;

        public InputRequiredResults(McpServer server, RequestParams? request, string target, ITimeLimitedDataProtector protector) : base(server)
        {
            _protector = protector;
            _target = target;
            _responses = request?.InputResponses;
            _answered = request?.RequestState is { } state ? Unprotect(state) : [];
        }

        private protected override ValueTask<IReadOnlyDictionary<string, InputResponse>> AnswersAsync(IReadOnlyDictionary<string, InputRequest> round, CancellationToken cancellationToken)
        {
            var answers = new Dictionary<string, InputResponse>();
            var missing = new Dictionary<string, InputRequest>();
            foreach (var (key, request) in round)
            {
                if (_answered.TryGetValue(key, out var earlier)) answers[key] = new() { RawValue = earlier };
                else if (_responses?.TryGetValue(key, out var response) is true) answers[key] = Validated(key, request.Method, response);
                else missing[key] = request;
            }
            // The state carries every answer so far, so a retry need only bring what is still missing.
            foreach (var (key, answer) in answers) _answered[key] = answer.RawValue;
            if (missing.Count > 0) throw new InputRequiredException(missing, Protect());
            return ValueTask.FromResult<IReadOnlyDictionary<string, InputResponse>>(answers);
        }

        // An answer of the wrong shape is the client's error (SEP-2322: validate InputResponses), not the tool's.
        private static InputResponse Validated(string key, string method, InputResponse response)
        {
            try
            {
                object? result = method switch
                {
                    RequestMethods.ElicitationCreate => response.Deserialize(InputResponse.ElicitResultJsonTypeInfo),
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but still asked for there.
                    RequestMethods.SamplingCreateMessage => response.Deserialize(InputResponse.CreateMessageResultJsonTypeInfo),
                    RequestMethods.RootsList => response.Deserialize(InputResponse.ListRootsResultJsonTypeInfo),
#pragma warning restore MCP9005
                    _ => null,
                };
                if (result is not null) return response;
            }
            catch (JsonException)
            {
            }
            throw new McpProtocolException($"inputResponses.{key} is not a result of {method}.", McpErrorCode.InvalidParams);
        }

        private string Protect() =>
            _protector.Protect(JsonSerializer.Serialize(new RequestState(_target, _answered), ClientInputJson.Default.RequestState), StateLifetime);

        // SEP-2322: requestState is attacker-controlled input; one that fails verification is refused.
        private Dictionary<string, JsonElement> Unprotect(string requestState)
        {
            RequestState? state;
            try
            {
                state = JsonSerializer.Deserialize(_protector.Unprotect(requestState), ClientInputJson.Default.RequestState);
            }
            catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
            {
                throw new McpProtocolException("requestState failed its integrity check or has expired; call again without it.", McpErrorCode.InvalidParams);
            }
            if (state is null || state.Target != _target)
                throw new McpProtocolException("requestState belongs to another request.", McpErrorCode.InvalidParams);
            return state.Answered;
        }
    }

    /// <summary>The 2025-11-25 way: every request of a round goes to the client at once, during the call.</summary>
    private sealed class ServerRequests(McpServer server) : ClientInput(server)
    {
        private protected override async ValueTask<IReadOnlyDictionary<string, InputResponse>> AnswersAsync(IReadOnlyDictionary<string, InputRequest> round, CancellationToken cancellationToken)
        {
            var asked = round.ToDictionary(r => r.Key, r => SendAsync(r.Key, r.Value, cancellationToken));
            try
            {
                await Task.WhenAll(asked.Values);
            }
            catch (InvalidOperationException ex)
            {
                // The SDK refuses server-to-client requests on a stateless request: say so as a protocol error.
                throw new McpProtocolException($"This server asks for input during the call, which needs a session; this request has none ({ex.Message})", McpErrorCode.InvalidRequest);
            }
            return asked.ToDictionary(a => a.Key, a => a.Value.Result);
        }

        private async Task<InputResponse> SendAsync(string key, InputRequest request, CancellationToken cancellationToken)
        {
            var hint = new JsonObject { [InputKeyMeta] = key };
            switch (request.Method)
            {
                case RequestMethods.ElicitationCreate:
                    var elicitation = request.ElicitationParams!;
                    elicitation.Meta = hint;
                    return InputResponse.FromElicitResult(await Server.ElicitAsync(elicitation, cancellationToken));
#pragma warning disable MCP9005 // Sampling and roots are deprecated from 2026-07-28 on, but current in 2025-11-25.
                case RequestMethods.SamplingCreateMessage:
                    var sampling = request.SamplingParams!;
                    sampling.Meta = hint;
                    return InputResponse.FromSamplingResult(await Server.SampleAsync(sampling, cancellationToken));
                case RequestMethods.RootsList:
                    var roots = request.RootsParams ?? new();
                    roots.Meta = hint;
                    return InputResponse.FromRootsResult(await Server.RequestRootsAsync(roots, cancellationToken));
#pragma warning restore MCP9005
                default:
                    throw new ArgumentException($"Not a client request: {request.Method}.", nameof(request));
            }
        }
    }
}

/// <summary>What a protected <c>requestState</c> holds: the request it is good for and every answer given so far.</summary>
internal sealed record RequestState(string Target, Dictionary<string, JsonElement> Answered);

[JsonSerializable(typeof(RequestState))]
internal sealed partial class ClientInputJson : JsonSerializerContext;
