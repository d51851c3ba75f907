using System.Globalization;

namespace Downloads.Bench;

/// <summary>
/// <c>Downloads.Bench &lt;scenario&gt; [--option value …]</c>: runs one scenario, appends its rows to the results
/// file (<c>--out</c>, default <c>bench/results/latest.json</c>) and prints the whole table. <c>report</c> prints
/// the table only. See bench/README.md.
/// </summary>
public static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                usage: Downloads.Bench <scenario> [--option value …]   (loopback targets only)
                  initiate        --targets baseline=URL,inmem=URL,redis=URL --connections 64,256 --duration 10 --warmup 2 --files 1
                  first-progress  --api URL --samples 50 --load-rps 0 --budget 30
                  backplane       --api URL --api2 URL --redis HOST:PORT --prefix downloads: --jobs 300 --files 10 --events-per-second 2000
                  connections     --api URL --pid PID --count 10000 --jobs 100 --budget 120
                  files           --api URL --jobs 200 --files 10
                  drain           --api URL --jobs 2000 --callers 32
                  fairness        --api URL --big 1000 --samples 10
                  report
                  compare         --before bench/results/latest-before.json --after bench/results/latest.json
                every scenario: --out bench/results/latest.json (rows are appended), --reset (start a new file),
                  --label TEXT (appended to each row's setting, e.g. "1 worker"), --build TEXT (what was measured)
                """);
            return 2;
        }

        var options = Parse(args.Skip(1).ToArray());
        if (args[0] == "compare")
        {
            Console.WriteLine(ResultsFile.Compare(
                ResultsFile.Load(options.GetValueOrDefault("before", "bench/results/latest-before.json")),
                ResultsFile.Load(options.GetValueOrDefault("after", "bench/results/latest.json"))));
            return 0;
        }

        var outPath = options.GetValueOrDefault("out", "bench/results/latest.json");
        var results = options.ContainsKey("reset") ? new ResultsFile() : ResultsFile.Load(outPath);
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var scenario = args[0];
        if (scenario != "report")
        {
            var load = ResultsFile.LoadAverage();
            Console.Error.WriteLine($"[bench] {scenario}: load average {load}");
            var label = options.GetValueOrDefault("label");
            results.LoadAverages[label is null ? scenario : $"{scenario} ({label})"] = load;
            results.Build = options.TryGetValue("build", out var build) ? build : results.Build;
            var rows = await RunAsync(scenario, options, cancel.Token);
            results.Rows.AddRange(label is null ? rows : rows.Select(r => r with { Setting = $"{r.Setting}, {label}" }));
            results.Save(outPath);
        }

        Console.WriteLine(results.ToTable());
        return 0;
    }

    public static Task<List<ResultRow>> RunAsync(string scenario, IReadOnlyDictionary<string, string> o, CancellationToken cancellationToken)
    {
        Uri Url(string key) => new(o.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required"));
        int Int(string key, int fallback) => o.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        TimeSpan Seconds(string key, double fallback) =>
            TimeSpan.FromSeconds(o.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback);

        return scenario switch
        {
            "initiate" => Scenarios.InitiateAsync(
                o.GetValueOrDefault("targets", "")
                    .Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Select(t => t.Split('=', 2))
                    .Select(p => (p[0], new Uri(p[1])))
                    .ToList(),
                o.GetValueOrDefault("connections", "64,256").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList(),
                Seconds("duration", 10), Seconds("warmup", 2), Int("files", 1), cancellationToken),
            "first-progress" => Scenarios.FirstProgressAsync(Url("api"), Int("samples", 50), Int("load-rps", 0), Seconds("budget", 30), cancellationToken),
            "backplane" => Scenarios.BackplaneAsync(
                Url("api"), Url("api2"), o.GetValueOrDefault("redis", "127.0.0.1:6379"), o.GetValueOrDefault("prefix", "downloads:"),
                Int("jobs", 300), Int("files", 10), Int("events-per-second", 2000), cancellationToken),
            "connections" => Scenarios.ConnectionsAsync(
                Url("api"), Int("pid", 0), Int("count", 10_000), Int("jobs", 100), Seconds("budget", 120), cancellationToken),
            "files" => Scenarios.FilesAsync(Url("api"), Int("jobs", 200), Int("files", 10), cancellationToken),
            "drain" => Scenarios.DrainAsync(Url("api"), Int("jobs", 2000), Int("callers", 32), cancellationToken),
            "fairness" => Scenarios.FairnessAsync(Url("api"), Int("big", 1000), Int("samples", 10), cancellationToken),
            _ => throw new ArgumentException($"unknown scenario '{scenario}'"),
        };
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            var key = args[i][2..];
            options[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }

        return options;
    }
}
