using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Downloads.Bench;

/// <summary>One line of the figures table.</summary>
public sealed record ResultRow(
    string Scenario,
    string Target,
    string Setting,
    long Count,
    double? PerSecond,
    double? P50Ms,
    double? P99Ms,
    string Goal,
    string Note)
{
    /// <summary>Further figures of the row (errors, memory, max latency …), kept in the JSON.</summary>
    public Dictionary<string, double> Extra { get; init; } = [];
}

/// <summary>The JSON file: when, where, how loaded, and the rows. Several runs of the tool append to one file.</summary>
public sealed class ResultsFile
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public DateTimeOffset Started { get; set; } = DateTimeOffset.UtcNow;

    public string Machine { get; set; } = Environment.MachineName;

    public int Cores { get; set; } = Environment.ProcessorCount;

    public string Runtime { get; set; } = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    /// <summary>What was measured (e.g. the service's git commit), when the run said so.</summary>
    public string? Build { get; set; }

    public List<ResultRow> Rows { get; set; } = [];

    /// <summary>The load averages (1, 5, 15 min) when each scenario started.</summary>
    public Dictionary<string, string> LoadAverages { get; set; } = [];

    public static ResultsFile Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<ResultsFile>(File.ReadAllText(path), Json) ?? new() : new();

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public string ToTable()
    {
        var rows = Rows.Select(r => new[]
        {
            r.Scenario, r.Target, r.Setting, r.Count.ToString(CultureInfo.InvariantCulture), Format(r.PerSecond, "0"),
            Format(r.P50Ms, "0.0"), Format(r.P99Ms, "0.0"), r.Goal, r.Note,
        }).ToList();
        string[] header = ["scenario", "target", "setting", "count", "per s", "p50 ms", "p99 ms", "goal", "note"];
        var text = new StringBuilder();
        AppendHeading(text, "");
        AppendTable(text, header, rows);
        AppendLoads(text, "");
        return text.ToString();
    }

    /// <summary>
    /// The same scenarios of two runs side by side, matched on scenario, target and setting (so both runs must use
    /// the same ports and sizes): per s, p50 and p99 before and after, and the after ÷ before ratio of per s.
    /// </summary>
    public static string Compare(ResultsFile before, ResultsFile after)
    {
        static (string, string, string) Key(ResultRow r) => (r.Scenario, r.Target, r.Setting);
        var earlier = before.Rows.GroupBy(Key).ToDictionary(g => g.Key, g => g.Last());
        var later = after.Rows.GroupBy(Key).ToDictionary(g => g.Key, g => g.Last());
        var keys = after.Rows.Select(Key).Concat(before.Rows.Select(Key)).Distinct();
        var rows = keys.Select(k =>
        {
            var b = earlier.GetValueOrDefault(k);
            var a = later.GetValueOrDefault(k);
            var ratio = a?.PerSecond is { } x && b?.PerSecond is { } y && y > 0 ? (x / y).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "";
            return new[]
            {
                k.Item1, k.Item2, k.Item3, Format(b?.PerSecond, "0"), Format(a?.PerSecond, "0"), ratio,
                Latency(b), Latency(a), a?.Goal ?? b?.Goal ?? "", b?.Note ?? "", a?.Note ?? "",
            };
        }).ToList();
        var text = new StringBuilder();
        before.AppendHeading(text, "before: ");
        after.AppendHeading(text, "after: ");
        AppendTable(text, ["scenario", "target", "setting", "before per s", "after per s", "after ÷ before", "before p50 / p99 ms",
            "after p50 / p99 ms", "goal", "before note", "after note"], rows);
        before.AppendLoads(text, "before: ");
        after.AppendLoads(text, "after: ");
        return text.ToString();

        static string Latency(ResultRow? r) => r?.P50Ms is null && r?.P99Ms is null ? "" : $"{Format(r.P50Ms, "0.0")} / {Format(r.P99Ms, "0.0")}";
    }

    private void AppendHeading(StringBuilder text, string prefix) =>
        text.AppendLine(CultureInfo.InvariantCulture, $"{prefix}{Started:yyyy-MM-dd HH:mm}Z, {Machine}, {Cores} cores, {Runtime}{(Build is null ? "" : ", " + Build)}");

    private void AppendLoads(StringBuilder text, string prefix)
    {
        foreach (var (scenario, load) in LoadAverages)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{prefix}load average before {scenario}: {load}");
        }
    }

    private static void AppendTable(StringBuilder text, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        rows.ForEach(Line);

        void Line(string[] cells) =>
            text.AppendLine("| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |");
    }

    private static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "";
}

/// <summary>Latencies in milliseconds, summarised by nearest-rank percentiles.</summary>
public sealed class Latencies
{
    private readonly List<double> _values = [];

    public int Count { get { lock (_values) { return _values.Count; } } }

    public void Add(double milliseconds)
    {
        lock (_values)
        {
            _values.Add(milliseconds);
        }
    }

    public void AddRange(IEnumerable<double> values)
    {
        lock (_values)
        {
            _values.AddRange(values);
        }
    }

    public double? Percentile(double p)
    {
        lock (_values)
        {
            if (_values.Count == 0)
            {
                return null;
            }

            _values.Sort();
            var rank = (int)Math.Ceiling(p / 100 * _values.Count) - 1;
            return _values[Math.Clamp(rank, 0, _values.Count - 1)];
        }
    }

    public static double Ms(long startTimestamp, long endTimestamp) =>
        (endTimestamp - startTimestamp) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
}
