using System.Text.Json.Nodes;
using McpServerless.Bridge;
using Microsoft.Extensions.Time.Testing;

namespace McpServerless.Tests.Bridge;

/// <summary>
/// The registry as the relay will drive it: an upstream call (here a script standing in for the upstream) asks its
/// questions through <see cref="PendingCall.AskAsync"/>, the caller's side takes <see cref="PendingStep"/>s and
/// answers through retries, and time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class PendingCallRegistryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(20);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_call_that_asks_nothing_completes_in_one_step_and_is_never_parked()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var call = registry.Start(Timeout, _ => Task.FromResult<JsonNode?>(Result("done")));

        var step = Assert.IsType<PendingStep.Completed>(await call.NextStepAsync(CancellationToken.None));

        Assert.Equal("done", step.Result!["text"]!.GetValue<string>());
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public async Task A_question_goes_to_the_caller_and_its_answer_back_to_the_upstream()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var answer = await call.AskAsync("elicitation/create", Elicit("What is your name?"), "user_name", ct);
            return Result($"Hello, {answer!["content"]!["name"]}!");
        });

        var round = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        var request = Assert.Single(round.Requests);
        Assert.Equal(("user_name", "elicitation/create"), (request.Key, request.Method));
        Assert.Equal("What is your name?", request.Parameters!["message"]!.GetValue<string>());
        Assert.Equal(_time.GetUtcNow() + Timeout, round.Deadline);
        Assert.Equal(1, registry.Count);

        Assert.True(registry.TryResume(call.Id, out var resumed));
        Assert.Same(call, resumed);
        Assert.Equal(0, registry.Count);
        resumed.Answer(new Dictionary<string, JsonNode?> { ["user_name"] = Accepted("name", "Alice") });
        var done = Assert.IsType<PendingStep.Completed>(await resumed.NextStepAsync(CancellationToken.None));

        Assert.Equal("Hello, Alice!", done.Result!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Parked_calls_are_counted_per_caller_and_one_over_the_limit_gives_up_the_callers_oldest()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero, maxParkedPerCaller: 2);
        async Task<(PendingCall Call, Script Upstream)> ParkAsync(string caller)
        {
            var upstream = new Script();
            var call = upstream.Start(registry, async (call, ct) => await call.AskAsync("roots/list", new JsonObject(), null, ct), caller: caller);
            Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
            _time.Advance(TimeSpan.FromSeconds(1)); // each parks later than the one before
            return (call, upstream);
        }

        var (oldest, oldestUpstream) = await ParkAsync("alice");
        var (resumed, _) = await ParkAsync("alice");
        await ParkAsync("bob");
        Assert.Equal((2, 1, 0), (registry.ParkedBy("alice"), registry.ParkedBy("bob"), registry.ParkedBy("carol")));

        var (newest, _) = await ParkAsync("alice");
        Assert.Equal(2, registry.ParkedBy("alice"));
        Assert.True(oldestUpstream.Token.IsCancellationRequested); // its upstream request is cancelled
        Assert.False(registry.TryResume(oldest.Id, out _));

        Assert.True(registry.TryResume(resumed.Id, out _));
        newest.Cancel();
        Assert.Equal(0, registry.ParkedBy("alice"));
        _time.Advance(Timeout);
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public async Task Requests_sent_together_reach_the_caller_in_one_round()
    {
        var registry = new PendingCallRegistry(_time, Window);
        var ask = new TaskCompletionSource<PendingCall>();
        var call = registry.Start(Timeout, async ct =>
        {
            var asking = await ask.Task;
            // As an SDK resolving several input requests sends them: one after the other, without waiting.
            var answers = await Task.WhenAll(
                asking.AskAsync("elicitation/create", Elicit("Name?"), null, ct),
                asking.AskAsync("sampling/createMessage", new JsonObject { ["maxTokens"] = 50 }, null, ct),
                asking.AskAsync("roots/list", new JsonObject(), null, ct));
            return Result($"{answers.Length} answers");
        });

        var stepping = call.NextStepAsync(CancellationToken.None);
        ask.SetResult(call);
        var round = Assert.IsType<PendingStep.InputRequired>(await PumpAsync(stepping));

        Assert.Equal(["elicitation-1", "sampling-2", "roots-3"], round.Requests.Select(r => r.Key));
        Assert.Equal(["elicitation/create", "sampling/createMessage", "roots/list"], round.Requests.Select(r => r.Method));
        Assert.True(registry.TryResume(call.Id, out _));
        call.Answer(new Dictionary<string, JsonNode?>
        {
            ["elicitation-1"] = Accepted("name", "Alice"),
            ["sampling-2"] = Sampled("Hello there!"),
            ["roots-3"] = new JsonObject { ["roots"] = new JsonArray() },
        });
        Assert.Equal("3 answers", Text(await call.NextStepAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task A_question_asked_after_its_round_left_goes_in_the_next_round()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var second = new TaskCompletionSource();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var first = call.AskAsync("elicitation/create", Elicit("First?"), "first", ct);
            await second.Task;
            var next = call.AskAsync("elicitation/create", Elicit("Second?"), "second", ct);
            await Task.WhenAll(first, next);
            return Result("both");
        });

        var round1 = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        second.SetResult();
        Assert.Equal(["first"], round1.Requests.Select(r => r.Key));
        Assert.True(registry.TryResume(call.Id, out _));
        call.Answer(new Dictionary<string, JsonNode?> { ["first"] = Accepted("a", "1") });

        var round2 = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        Assert.Equal(["second"], round2.Requests.Select(r => r.Key));
    }

    [Fact]
    public async Task A_round_answered_in_part_asks_again_for_what_is_missing_under_the_same_key()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var asked = new TaskCompletionSource();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var answers = Task.WhenAll(
                call.AskAsync("elicitation/create", Elicit("Name?"), "user_name", ct),
                call.AskAsync("roots/list", new JsonObject(), "client_roots", ct));
            asked.SetResult();
            await answers;
            return Result("complete");
        });
        await asked.Task;

        var round1 = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        Assert.Equal(2, round1.Requests.Count);
        Assert.True(registry.TryResume(call.Id, out _));
        // The missing roots answer, and a key nobody asked for, which is ignored.
        call.Answer(new Dictionary<string, JsonNode?> { ["user_name"] = Accepted("name", "Alice"), ["unknown_extra_key"] = Accepted("foo", "bar") });

        var round2 = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        var again = Assert.Single(round2.Requests);
        Assert.Equal(("client_roots", "roots/list"), (again.Key, again.Method));
        Assert.True(registry.TryResume(call.Id, out _));
        call.Answer(new Dictionary<string, JsonNode?> { ["client_roots"] = new JsonObject { ["roots"] = new JsonArray() } });
        Assert.Equal("complete", Text(await call.NextStepAsync(CancellationToken.None)));
    }

    [Theory]
    [InlineData("elicitation/create", "12345")]
    [InlineData("elicitation/create", """{"action":"maybe"}""")]
    [InlineData("sampling/createMessage", """{"role":"assistant"}""")]
    [InlineData("roots/list", """{"roots":"file:///"}""")]
    [InlineData("roots/list", "null")]
    public async Task A_response_not_shaped_as_its_requests_result_is_refused_and_answers_nothing(string method, string response)
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var asked = new TaskCompletionSource();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var answers = Task.WhenAll(call.AskAsync(method, new JsonObject(), "bad", ct), call.AskAsync("elicitation/create", Elicit("Name?"), "good", ct));
            asked.SetResult();
            await answers;
            return Result("complete");
        });
        await asked.Task;
        await call.NextStepAsync(CancellationToken.None);
        Assert.True(registry.TryResume(call.Id, out _));

        var refused = Assert.Throws<InvalidInputResponseException>(() =>
            call.Answer(new Dictionary<string, JsonNode?> { ["good"] = Accepted("name", "Alice"), ["bad"] = JsonNode.Parse(response) }));

        Assert.Equal("bad", refused.Key);
        // Neither was answered: both are asked again.
        var again = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));
        Assert.Equal(["bad", "good"], again.Requests.Select(r => r.Key).Order());
    }

    [Fact]
    public async Task A_caller_that_does_not_come_back_in_time_gives_the_call_up()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        Task<JsonNode?>? asked = null;
        var call = upstream.Start(registry, async (call, ct) =>
        {
            asked = call.AskAsync("elicitation/create", Elicit("Name?"), "user_name", ct);
            await asked;
            return Result("never");
        });
        await call.NextStepAsync(CancellationToken.None);
        Assert.Equal(1, registry.Count);

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, registry.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(0, registry.Count);
        Assert.True(call.Cancelled.IsCancellationRequested);
        Assert.True(upstream.Token.IsCancellationRequested);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => asked!);
        Assert.False(registry.TryResume(call.Id, out _));
    }

    [Fact]
    public async Task A_retry_in_time_stops_the_deadline()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            await call.AskAsync("elicitation/create", Elicit("Name?"), "user_name", ct);
            await Task.Delay(Timeout * 2, _time, ct); // the upstream works on, long after the round's deadline
            return Result("late but fine");
        });
        await call.NextStepAsync(CancellationToken.None);
        Assert.True(registry.TryResume(call.Id, out _));
        call.Answer(new Dictionary<string, JsonNode?> { ["user_name"] = Accepted("name", "Alice") });

        var stepping = call.NextStepAsync(CancellationToken.None);
        for (var i = 0; i < 100 && !stepping.IsCompleted; i++)
        {
            _time.Advance(Timeout);
            await Task.Delay(10);
        }

        Assert.Equal("late but fine", Text(await stepping));
        Assert.False(call.Cancelled.IsCancellationRequested);
    }

    [Fact]
    public async Task A_caller_that_goes_away_while_waiting_cancels_the_upstream_call()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var call = upstream.Start(registry, async (_, ct) =>
        {
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
            return null;
        });
        using var caller = new CancellationTokenSource();

        var stepping = call.NextStepAsync(caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stepping);
        Assert.True(upstream.Token.IsCancellationRequested);
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public async Task A_call_cancelled_while_parked_leaves_the_registry()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var call = upstream.Start(registry, async (call, ct) => await call.AskAsync("roots/list", null, null, ct));
        await call.NextStepAsync(CancellationToken.None);

        call.Cancel();
        call.Cancel();

        Assert.Equal(0, registry.Count);
        Assert.True(upstream.Token.IsCancellationRequested);
        _time.Advance(Timeout); // the deadline timer is gone with it
    }

    [Fact]
    public async Task A_question_the_upstream_withdraws_is_not_asked()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        using var withdraw = new CancellationTokenSource();
        var asked = new TaskCompletionSource();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var dropped = call.AskAsync("elicitation/create", Elicit("Dropped?"), "dropped", withdraw.Token);
            await withdraw.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
            var kept = call.AskAsync("elicitation/create", Elicit("Kept?"), "kept", ct);
            asked.SetResult();
            await kept;
            return Result("kept");
        });
        await asked.Task;

        var round = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));

        Assert.Equal(["kept"], round.Requests.Select(r => r.Key));
    }

    [Fact]
    public async Task Keys_are_unique_in_a_call_so_an_old_answer_never_answers_a_new_question()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var call = upstream.Start(registry, async (call, ct) =>
        {
            await call.AskAsync("elicitation/create", Elicit("One?"), "confirm", ct);
            await call.AskAsync("elicitation/create", Elicit("Two?"), "confirm", ct);
            return Result("two rounds");
        });
        await call.NextStepAsync(CancellationToken.None);
        Assert.True(registry.TryResume(call.Id, out _));
        call.Answer(new Dictionary<string, JsonNode?> { ["confirm"] = Accepted("ok", "yes") });

        var round2 = Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));

        var renamed = Assert.Single(round2.Requests);
        Assert.NotEqual("confirm", renamed.Key);
        Assert.StartsWith("elicitation-", renamed.Key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_the_first_request_carried_answer_the_questions_they_name_without_a_round()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var supplied = new Dictionary<string, JsonNode?> { ["user_name"] = Accepted("name", "Alice"), ["another_unexpected"] = Accepted("baz", "1") };
        var call = upstream.Start(registry, async (call, ct) =>
        {
            var answer = await call.AskAsync("elicitation/create", Elicit("What is your name?"), "user_name", ct);
            return Result($"Hello, {answer!["content"]!["name"]}!");
        }, supplied);

        Assert.Equal("Hello, Alice!", Text(await call.NextStepAsync(CancellationToken.None)));
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public async Task An_upstream_failure_reaches_the_caller()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var call = registry.Start(Timeout, _ => Task.FromException<JsonNode?>(new InvalidOperationException("upstream said no")));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => call.NextStepAsync(CancellationToken.None));

        Assert.Equal("upstream said no", failure.Message);
    }

    [Fact]
    public async Task An_upstream_that_answers_while_questions_are_open_completes_the_call()
    {
        var registry = new PendingCallRegistry(_time, TimeSpan.Zero);
        var upstream = new Script();
        var finish = new TaskCompletionSource();
        Task<JsonNode?>? open = null;
        var call = upstream.Start(registry, async (call, ct) =>
        {
            open = call.AskAsync("elicitation/create", Elicit("Optional?"), "optional", ct);
            await finish.Task;
            return Result("did without");
        });
        Assert.IsType<PendingStep.InputRequired>(await call.NextStepAsync(CancellationToken.None));

        finish.SetResult();
        await upstream.Done;
        // The retry brings nothing and gets the result; the open question is moot.
        Assert.True(registry.TryResume(call.Id, out _));

        Assert.Equal("did without", Text(await call.NextStepAsync(CancellationToken.None)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open!);
    }

    // Advances the fake clock through the gather window until the step is out.
    private async Task<PendingStep> PumpAsync(Task<PendingStep> stepping)
    {
        for (var i = 0; i < 200 && !stepping.IsCompleted; i++)
        {
            _time.Advance(Window);
            await Task.Delay(5);
        }
        return await stepping;
    }

    private static string Text(PendingStep step) => Assert.IsType<PendingStep.Completed>(step).Result!["text"]!.GetValue<string>();

    private static JsonObject Result(string text) => new() { ["text"] = text };

    private static JsonObject Elicit(string message) => new() { ["message"] = message, ["requestedSchema"] = new JsonObject { ["type"] = "object" } };

    private static JsonObject Accepted(string field, string value) => new() { ["action"] = "accept", ["content"] = new JsonObject { [field] = value } };

    private static JsonObject Sampled(string text) =>
        new() { ["role"] = "assistant", ["content"] = new JsonObject { ["type"] = "text", ["text"] = text }, ["model"] = "test-model" };

    /// <summary>Stands in for the upstream: a script given the call (once started) and the token the call runs under.</summary>
    private sealed class Script
    {
        public CancellationToken Token { get; private set; }

        /// <summary>The upstream request itself, as the call holds it.</summary>
        public Task Done { get; private set; } = Task.CompletedTask;

        public PendingCall Start(PendingCallRegistry registry, Func<PendingCall, CancellationToken, Task<JsonNode?>> script, IReadOnlyDictionary<string, JsonNode?>? supplied = null,
            string caller = "")
        {
            var started = new TaskCompletionSource<PendingCall>(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = registry.Start(Timeout, ct =>
            {
                Token = ct;
                var upstream = RunAsync(ct);
                Done = upstream;
                return upstream;
            }, supplied, caller);
            async Task<JsonNode?> RunAsync(CancellationToken ct) => await script(await started.Task, ct);
            started.SetResult(call);
            return call;
        }
    }
}
