using System.Globalization;

namespace McpServerless.Bench;

/// <param name="Repeat">Rounds per run; the median round is reported (see Program.MeasureAsync).</param>
/// <param name="Only">Runs only the scenarios whose name contains one of these (e.g. "YARP" and "gateway /{name}/stream"); all when empty.</param>
internal sealed record BenchSettings(TimeSpan Warmup, TimeSpan Duration, IReadOnlyList<int> Sessions, bool SkipPeers, TimeSpan Soak, int SessionScale, int Repeat, IReadOnlyList<string> Only)
{
    public static BenchSettings Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var settings = new BenchSettings(TimeSpan.FromSeconds(quick ? 1 : 3), TimeSpan.FromSeconds(quick ? 3 : 10), quick ? [1, 32] : [1, 8, 32, 128],
            args.Contains("--skip-peers"), TimeSpan.Zero, quick ? 1000 : 10_000, 1, []);
        for (var i = 0; i < args.Length - 1; i++)
        {
            var value = args[i + 1];
            settings = args[i] switch
            {
                "--warmup" => settings with { Warmup = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--duration" => settings with { Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--sessions" => settings with { Sessions = [.. value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                "--soak" => settings with { Soak = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--session-scale" => settings with { SessionScale = int.Parse(value, CultureInfo.InvariantCulture) },
                "--repeat" => settings with { Repeat = int.Parse(value, CultureInfo.InvariantCulture) },
                "--only" => settings with { Only = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) },
                _ => settings,
            };
        }
        return settings;
    }

    public override string ToString() =>
        $"warm-up {Warmup.TotalSeconds}s, duration {Duration.TotalSeconds}s, sessions {string.Join(',', Sessions)}, peers {!SkipPeers}, only {(Only.Count == 0 ? "all" : string.Join(" | ", Only))}, repeat {Repeat}, session scale {SessionScale}, soak {Soak.TotalSeconds}s";
}
