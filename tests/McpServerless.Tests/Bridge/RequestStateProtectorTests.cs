using McpServerless.Bridge;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Time.Testing;

namespace McpServerless.Tests.Bridge;

public sealed class RequestStateProtectorTests
{
    private const string Caller = "token:3f1c0ffee";
    private const string Route = "weather";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly EphemeralDataProtectionProvider _keys = new();

    [Fact]
    public void A_state_continues_its_call_for_the_caller_and_route_it_was_issued_to()
    {
        var protector = Protector("replica-a");

        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));
        var check = protector.Unprotect(state, Caller, Route);

        Assert.Null(check.Rejection);
        Assert.Equal("call-1", check.CallId);
        Assert.Null(check.ErrorMessage);
    }

    [Fact]
    public void The_state_is_confidential_it_names_neither_the_caller_nor_the_call()
    {
        var state = Protector("replica-a").Protect("call-secret-id", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        Assert.DoesNotContain("call-secret-id", state, StringComparison.Ordinal);
        Assert.DoesNotContain("3f1c0ffee", state, StringComparison.Ordinal);
        Assert.DoesNotContain("replica-a", state, StringComparison.Ordinal);
        Assert.True(state.Length < RequestStateProtector.MaxStateLength);
    }

    [Theory]
    [InlineData("-TAMPERED")] // what the conformance suite appends
    [InlineData("A")]
    public void An_altered_state_is_refused_as_tampered(string suffix)
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        var check = protector.Unprotect(state + suffix, Caller, Route);

        Assert.Equal(RequestStateRejection.Tampered, check.Rejection);
        Assert.Null(check.CallId);
        Assert.Equal("tampered", check.Reason);
    }

    [Fact]
    public void A_flipped_character_inside_the_state_is_refused_as_tampered()
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30)).ToCharArray();
        state[state.Length / 2] = state[state.Length / 2] == 'A' ? 'B' : 'A';

        Assert.Equal(RequestStateRejection.Tampered, protector.Unprotect(new string(state), Caller, Route).Rejection);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64url!")]
    [InlineData("eyJjYWxsIjoiY2FsbC0xIn0")] // well-formed base64url of plain JSON: never issued here
    public void Input_that_was_never_a_state_is_refused_as_tampered(string input)
    {
        Assert.Equal(RequestStateRejection.Tampered, Protector("replica-a").Unprotect(input, Caller, Route).Rejection);
    }

    [Fact]
    public void An_oversized_state_is_refused_unread()
    {
        Assert.Equal(RequestStateRejection.Tampered, Protector("replica-a").Unprotect(new string('A', RequestStateProtector.MaxStateLength + 1), Caller, Route).Rejection);
    }

    [Fact]
    public void Data_protected_for_another_purpose_is_refused_as_tampered()
    {
        var foreign = System.Buffers.Text.Base64Url.EncodeToString(_keys.CreateProtector("some.other.purpose").Protect([1, 2, 3]));

        Assert.Equal(RequestStateRejection.Tampered, Protector("replica-a").Unprotect(foreign, Caller, Route).Rejection);
    }

    [Fact]
    public void A_state_past_its_expiry_is_refused_as_expired()
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(30));
        var check = protector.Unprotect(state, Caller, Route);

        Assert.Equal(RequestStateRejection.Expired, check.Rejection);
        Assert.Contains("expired", check.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_presented_by_another_caller_is_refused_and_stays_good_for_its_own()
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        Assert.Equal(RequestStateRejection.OtherCaller, protector.Unprotect(state, "token:someone-else", Route).Rejection);
        Assert.Equal(RequestStateRejection.OtherCaller, protector.Unprotect(state, "address:10.0.0.9", Route).Rejection);
        Assert.Equal("call-1", protector.Unprotect(state, Caller, Route).CallId);
    }

    [Fact]
    public void A_state_presented_on_another_route_is_refused()
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        var check = protector.Unprotect(state, Caller, "files");

        Assert.Equal(RequestStateRejection.OtherRoute, check.Rejection);
        Assert.Equal("other-route", check.Reason);
    }

    [Fact]
    public void A_state_continues_its_call_once()
    {
        var protector = Protector("replica-a");
        var state = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));
        Assert.Equal(1, protector.OutstandingCount);

        Assert.Equal("call-1", protector.Unprotect(state, Caller, Route).CallId);
        var replay = protector.Unprotect(state, Caller, Route);

        Assert.Equal(RequestStateRejection.Replayed, replay.Rejection);
        Assert.Contains("already used", replay.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, protector.OutstandingCount);
    }

    [Fact]
    public void The_state_of_an_earlier_round_is_refused_once_the_next_is_issued_for_the_same_call()
    {
        var protector = Protector("replica-a");
        var first = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));
        Assert.Equal("call-1", protector.Unprotect(first, Caller, Route).CallId);
        var second = protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        Assert.Equal(RequestStateRejection.Replayed, protector.Unprotect(first, Caller, Route).Rejection);
        Assert.Equal("call-1", protector.Unprotect(second, Caller, Route).CallId);
    }

    [Fact]
    public void A_state_reaching_another_replica_is_refused_naming_the_replica_that_holds_the_call()
    {
        var a = Protector("replica-a");
        var b = Protector("replica-b");
        var state = a.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        var check = b.Unprotect(state, Caller, Route);

        Assert.Equal(RequestStateRejection.OtherReplica, check.Rejection);
        Assert.Equal("replica-a", check.Replica);
        Assert.Contains("'replica-a'", check.ErrorMessage, StringComparison.Ordinal);
        // Refused elsewhere, it is still good where the call is.
        Assert.Equal("call-1", a.Unprotect(state, Caller, Route).CallId);
    }

    [Fact]
    public void A_state_from_before_a_restart_of_the_same_replica_is_refused_as_its_call_is_gone()
    {
        var before = Protector("replica-a");
        var state = before.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));
        var after = Protector("replica-a");

        var check = after.Unprotect(state, Caller, Route);

        Assert.Equal(RequestStateRejection.OtherReplica, check.Rejection);
        Assert.Null(check.Replica);
        Assert.Contains("restarted", check.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_refusal_is_the_invalid_params_error_with_its_own_reason()
    {
        Assert.Equal(-32602, RequestStateCheck.ErrorCode);
        var protector = Protector("replica-a");
        var expires = _time.GetUtcNow().AddSeconds(30);
        var reasons = new[]
        {
            protector.Unprotect("x", Caller, Route),
            protector.Unprotect(protector.Protect("c", Caller, Route, expires), "other", Route),
            protector.Unprotect(protector.Protect("c", Caller, Route, expires), Caller, "other"),
            Protector("replica-b").Unprotect(protector.Protect("c", Caller, Route, expires), Caller, Route),
        }.Select(c => c.Reason).ToList();

        Assert.Equal(["tampered", "other-caller", "other-route", "other-replica"], reasons);
    }

    [Fact]
    public void States_never_used_are_forgotten_once_expired()
    {
        var protector = Protector("replica-a");
        protector.Protect("call-1", Caller, Route, _time.GetUtcNow().AddSeconds(30));
        protector.Protect("call-2", Caller, Route, _time.GetUtcNow().AddMinutes(10));

        _time.Advance(TimeSpan.FromMinutes(2));
        protector.Protect("call-3", Caller, Route, _time.GetUtcNow().AddSeconds(30));

        Assert.Equal(2, protector.OutstandingCount);
    }

    private RequestStateProtector Protector(string replica) => new(_keys, replica, _time);
}
