using McpServerless.Serialization;

namespace McpServerless.Tests.Serialization;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2h45m", 9_900_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("1500µs", 1.5)]
    [InlineData("0", 0)]
    [InlineData("-2s", -2_000)]
    public void Parses_go_duration_strings(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("1x")]
    [InlineData("1h-2m")]
    [InlineData("9999999999h")]
    [InlineData("99999999999999999999999h")]
    [InlineData("99999999999999999999999999999ns")]
    public void Rejects_what_go_rejects(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(30_000, "30s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(500, "500ms")]
    [InlineData(1.5, "1.5ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(0.25, "250µs")]
    public void Formats_like_go(double milliseconds, string expected) =>
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Format_and_parse_round_trip()
    {
        foreach (var value in new[] { TimeSpan.FromDays(1.25), TimeSpan.FromTicks(12345), TimeSpan.FromSeconds(59.999) })
        {
            Assert.True(GoDuration.TryParse(GoDuration.Format(value), out var parsed));
            Assert.Equal(value, parsed);
        }
    }
}
