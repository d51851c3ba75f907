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
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Started:yyyy-MM-dd HH:mm}Z, {Machine}, {Cores} cores, {Runtime}");
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        rows.ForEach(Line);
        foreach (var (scenario, load) in LoadAverages)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"load average before {scenario}: {load}");
        }

        return text.ToString();

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
