using System.Globalization;
using System.Text;

namespace McpServerless.Serialization;

/// <summary>
/// Go's <c>time.Duration</c> text form ("1h30m", "500ms", "1.5s"), which the original gateway and its
/// Go clients read and write. Precision is the 100 ns tick of <see cref="TimeSpan"/>.
/// </summary>
public static class GoDuration
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>Parses Go's syntax (units ns, us, µs, ms, s, m, h; a lone "0").</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan value)
    {
        value = default;
        if (text.IsEmpty) return false;

        var negative = false;
        if (text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            text = text[1..];
        }
        if (text is "0")
        {
            return true;
        }
        if (text.IsEmpty) return false;

        decimal totalTicks = 0;
        while (!text.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < text.Length && (char.IsAsciiDigit(text[numberLength]) || text[numberLength] == '.'))
                numberLength++;
            if (numberLength == 0 || !decimal.TryParse(text[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            text = text[numberLength..];

            var unitLength = 0;
            while (unitLength < text.Length && !char.IsAsciiDigit(text[unitLength]) && text[unitLength] != '.')
                unitLength++;
            decimal? ticksPerUnit = text[..unitLength] switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (ticksPerUnit is null) return false;
            text = text[unitLength..];

            // Checked before multiplying: a huge number times the unit would overflow decimal itself.
            if (number > (TimeSpan.MaxValue.Ticks - totalTicks) / ticksPerUnit.Value) return false;
            totalTicks += number * ticksPerUnit.Value;
        }

        var ticks = (long)decimal.Round(totalTicks);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>Formats like Go's <c>Duration.String()</c>: "1h2m3.5s", "1.5ms", "0s".</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0s";

        var builder = new StringBuilder(16);
        if (value < TimeSpan.Zero)
        {
            builder.Append('-');
            value = value.Duration();
        }

        var ticks = value.Ticks;
        if (ticks < TimeSpan.TicksPerSecond)
        {
            // Below one second Go picks the largest unit that keeps the integer part non-zero.
            var (divisor, unit) = ticks switch
            {
                < TicksPerMicrosecond => (0.01m, "ns"),
                < TimeSpan.TicksPerMillisecond => ((decimal)TicksPerMicrosecond, "µs"),
                _ => ((decimal)TimeSpan.TicksPerMillisecond, "ms"),
            };
            return builder.Append(FormatNumber(ticks / divisor)).Append(unit).ToString();
        }

        var hours = ticks / TimeSpan.TicksPerHour;
        ticks -= hours * TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute;
        ticks -= minutes * TimeSpan.TicksPerMinute;

        if (hours > 0) builder.Append(hours).Append('h');
        if (hours > 0 || minutes > 0) builder.Append(minutes).Append('m');
        return builder.Append(FormatNumber((decimal)ticks / TimeSpan.TicksPerSecond)).Append('s').ToString();
    }

    private static string FormatNumber(decimal number) =>
        number.ToString("0.#########", CultureInfo.InvariantCulture);
}
