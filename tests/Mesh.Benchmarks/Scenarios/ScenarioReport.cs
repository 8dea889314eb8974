using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>Writes the outcomes as <c>scenarios.json</c> and the throughput medians as <c>benchmarks-throughput.svg</c>.</summary>
internal static class ScenarioReport
{
    public const string JsonName = "scenarios.json";
    public const string SvgName = "benchmarks-throughput.svg";

    private static readonly string[] s_frameworks = [Framework.MeshName, Framework.OrleansName];

    public static (string Json, string Svg) Write(IReadOnlyList<ScenarioOutcome> outcomes, ScenarioOptions options)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        // Multi-node results go beside the single-node ones, not over them.
        string suffix = options.Nodes == 1 ? string.Empty : $"-{options.Nodes}-nodes";
        string json = Path.Combine(options.OutputDirectory, Path.GetFileNameWithoutExtension(JsonName) + suffix + ".json");
        string svg = Path.Combine(options.OutputDirectory, Path.GetFileNameWithoutExtension(SvgName) + suffix + ".svg");
        File.WriteAllBytes(json, Json(outcomes, options));
        File.WriteAllText(svg, Svg(outcomes, options), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return (json, svg);
    }

    public static byte[] Json(IReadOnlyList<ScenarioOutcome> outcomes, ScenarioOptions options)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("machine", Machine.Describe());
            json.WriteNumber("processorCount", Environment.ProcessorCount);
            json.WriteString("finishedUtc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("nodes", options.Nodes);
            json.WriteString("meshTransport", options.Nodes > 1 ? (options.Transport == MeshTransport.Tcp ? "tcp" : "quic") : "none");
            json.WriteNumber("scale", options.Scale);
            json.WriteNumber("runs", options.Runs);
            json.WriteNumber("passes", options.Passes);
            json.WriteNumber("warmupRuns", options.WarmupRuns);
            json.WriteNumber("nodeWarmupSeconds", options.Nodes > 1 ? options.NodeWarmup.TotalSeconds : 0);
            json.WriteNumber("durationSeconds", options.Duration.TotalSeconds);
            json.WriteStartArray("scenarios");
            foreach (ScenarioOutcome outcome in outcomes)
            {
                json.WriteStartObject();
                json.WriteNumber("number", outcome.Scenario.Number);
                json.WriteString("key", outcome.Scenario.Key);
                json.WriteString("description", outcome.Description);
                if (outcome.Error is not null)
                {
                    json.WriteString("error", outcome.Error);
                }

                if (outcome.Skipped is not null)
                {
                    json.WriteString("skipped", outcome.Skipped);
                }

                json.WriteStartArray("metrics");
                foreach (ScenarioMetric metric in outcome.Scenario.Metrics)
                {
                    json.WriteStartObject();
                    json.WriteString("name", metric.Name);
                    json.WriteString("unit", metric.Unit);
                    json.WriteBoolean("higherIsBetter", metric.HigherIsBetter);
                    foreach (string framework in s_frameworks)
                    {
                        json.WriteStartObject(framework);
                        json.WriteStartArray("runs");
                        foreach (IReadOnlyDictionary<string, double> run in outcome.Runs[framework])
                        {
                            WriteNumberOrNull(json, run[metric.Name]);
                        }

                        json.WriteEndArray();
                        if (outcome.Passes[framework].Count > 0)
                        {
                            // Each run's passes, whose median is the run's figure above.
                            json.WriteStartArray("passes");
                            foreach (IReadOnlyList<IReadOnlyDictionary<string, double>> run in outcome.Passes[framework])
                            {
                                json.WriteStartArray();
                                foreach (IReadOnlyDictionary<string, double> pass in run)
                                {
                                    WriteNumberOrNull(json, pass[metric.Name]);
                                }

                                json.WriteEndArray();
                            }

                            json.WriteEndArray();
                        }

                        WriteNumberOrNull(json, "median", outcome.Median(framework, metric.Name));
                        json.WriteEndObject();
                    }

                    WriteNumberOrNull(json, "meshOverOrleans", outcome.Ratio(metric.Name));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A horizontal bar chart, log scale, of each throughput scenario's median per framework.</summary>
    public static string Svg(IReadOnlyList<ScenarioOutcome> outcomes, ScenarioOptions options)
    {
        var rows = new List<(string Label, string Unit, double Mesh, double Orleans)>();
        foreach (ScenarioOutcome outcome in outcomes)
        {
            ScenarioMetric metric = outcome.Scenario.Metrics[0];
            double mesh = outcome.Median(Framework.MeshName, metric.Name);
            double orleans = outcome.Median(Framework.OrleansName, metric.Name);
            if (metric.Unit.EndsWith("/s", StringComparison.Ordinal) && outcome.Error is null && mesh > 0 && orleans > 0)
            {
                rows.Add(($"{outcome.Scenario.Number}. {outcome.Scenario.Key}", metric.Unit, mesh, orleans));
            }
        }

        const int Left = 150;
        const int PlotWidth = 560;
        const int Top = 70;
        const int RowHeight = 56;
        const int BarHeight = 20;
        int height = Top + (Math.Max(rows.Count, 1) * RowHeight) + 60;
        int width = Left + PlotWidth + 130;

        double low = 1e3, high = 1e4;
        if (rows.Count > 0)
        {
            double min = rows.Min(static r => Math.Min(r.Mesh, r.Orleans));
            double max = rows.Max(static r => Math.Max(r.Mesh, r.Orleans));
            low = Math.Pow(10, Math.Floor(Math.Log10(min)));
            high = Math.Pow(10, Math.Max(Math.Ceiling(Math.Log10(max)), Math.Log10(low) + 1));
        }

        double X(double value) => Left + (PlotWidth * (Math.Log10(value) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{width}" height="{height}" fill="white"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="24" font-size="15" font-weight="bold">Throughput, single node in process: Mesh vs Orleans (median of {options.Runs} runs)</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="42" fill="#555">Log scale. Scale {options.Scale.ToString(CultureInfo.InvariantCulture)}; {Escape(Machine.CpuModel())}, {Environment.ProcessorCount} cores.</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left + PlotWidth - 150}" y="50" width="12" height="12" fill="#2b6cb0"/><text x="{Left + PlotWidth - 134}" y="60">Mesh</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left + PlotWidth - 80}" y="50" width="12" height="12" fill="#dd6b20"/><text x="{Left + PlotWidth - 64}" y="60">Orleans</text>""").Append('\n');

        int bottom = Top + (rows.Count * RowHeight);
        for (double tick = low; tick <= high * 1.0001; tick *= 10)
        {
            double x = X(tick);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{x:F1}" y1="{Top - 4}" x2="{x:F1}" y2="{bottom}" stroke="#ddd"/>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x:F1}" y="{bottom + 16}" text-anchor="middle" fill="#555">{Short(tick)}/s</text>""").Append('\n');
        }

        for (int i = 0; i < rows.Count; i++)
        {
            (string label, string unit, double mesh, double orleans) = rows[i];
            int y = Top + (i * RowHeight);
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 8}" y="{y + BarHeight + 4}" text-anchor="end">{Escape(label)}</text>""").Append('\n');
            Bar(svg, y, mesh, "#2b6cb0", unit);
            Bar(svg, y + BarHeight + 2, orleans, "#dd6b20", unit);
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="{bottom + 40}" fill="#555">Generated by tests/Mesh.Benchmarks (scenarios); see docs/benchmarks.md for the method.</text>""").Append('\n');
        svg.Append("</svg>\n");
        return svg.ToString();

        void Bar(StringBuilder target, int y, double value, string color, string unit)
        {
            double end = Math.Max(X(value), Left + 1);
            target.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{y}" width="{end - Left:F1}" height="{BarHeight}" fill="{color}"/>""");
            target.Append(CultureInfo.InvariantCulture, $"""<text x="{end + 4:F1}" y="{y + 15}">{value:N0} {Escape(unit)}</text>""").Append('\n');
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, double value)
    {
        json.WritePropertyName(name);
        WriteNumberOrNull(json, value);
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    private static string Short(double value) => value switch
    {
        >= 1e9 => (value / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0.#", CultureInfo.InvariantCulture),
    };

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;
}
