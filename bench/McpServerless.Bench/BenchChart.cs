using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace McpServerless.Bench;

/// <summary>
/// Draws the echo runs side by side on log scales (the npm peers are 10-100x off the others): throughput, and CPU
/// per call of the process the client talks to (gateway, YARP or peer; for direct calls, the upstream itself), by
/// scenario (one colour each) and session count.
/// </summary>
internal static class BenchChart
{
    private const int Width = 1600;
    private const int Height = 640;

    public static void Write(IReadOnlyList<RunResult> results, string directory)
    {
        var echo = results.Where(r => r.Payload == Payload.Echo.Name && r.Failure is null && r.RequestsPerSecond > 0).ToArray();
        var sessionCounts = echo.Select(r => r.Sessions).Distinct().Order().ToArray();
        var scenarios = echo.Select(r => r.Scenario).Distinct().ToArray();

        var multiplot = new Multiplot { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        var throughput = Panel(multiplot.GetPlot(0), "Throughput, echo tool", "requests per second", sessionCounts);
        var cpu = Panel(multiplot.AddPlot(), "CPU per call of the process the client talks to", "CPU µs per call (user + system)", sessionCounts);
        for (var i = 0; i < scenarios.Length; i++)
        {
            var runs = echo.Where(r => r.Scenario == scenarios[i]).OrderBy(r => r.Sessions).ToArray();
            var positions = runs.Select(r => (double)Array.IndexOf(sessionCounts, r.Sessions)).ToArray();
            var color = Colors.Category10[i % Colors.Category10.Length];
            throughput.Add.Scatter(positions, runs.Select(r => Math.Log10(r.RequestsPerSecond)).ToArray(), color);
            var line = cpu.Add.Scatter(positions, runs.Select(r => Math.Log10(r.Hop().CpuMicrosecondsPerCall)).ToArray(), color);
            line.LegendText = scenarios[i];
        }
        cpu.ShowLegend(Edge.Right);

        multiplot.SavePng(Path.Combine(directory, "latest.png"), Width, Height);
        using var svg = File.Create(Path.Combine(directory, "latest.svg"));
        using (var canvas = SKSvgCanvas.Create(SKRect.Create(Width, Height), svg))
            multiplot.Render(canvas, new PixelRect(0, Width, Height, 0));
    }

    private static Plot Panel(Plot plot, string title, string yLabel, int[] sessionCounts)
    {
        plot.Font.Set("DejaVu Sans");
        plot.Title(title);
        plot.XLabel("concurrent sessions");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. sessionCounts.Select((_, i) => (double)i)], [.. sessionCounts.Select(s => s.ToString(CultureInfo.InvariantCulture))]);
        // Values are plotted as log10; ticks show them back as plain numbers.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Margins(horizontal: 0.1, vertical: 0.1);
        return plot;
    }
}
