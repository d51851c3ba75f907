using System.Globalization;

namespace Downloads.Tests.Operations;

/// <summary>A Prometheus text-format scrape, parsed just enough to read samples by name and labels.</summary>
public sealed class PrometheusText
{
    private readonly List<(string Name, string Labels, double Value)> _samples = [];

    public PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // name{labels} value [timestamp]
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.IndexOf(' ', brace < 0 ? 0 : line.IndexOf('}', StringComparison.Ordinal));
            var name = brace >= 0 && brace < space ? line[..brace] : line[..space];
            var labels = brace >= 0 && brace < space ? line[(brace + 1)..line.IndexOf('}', StringComparison.Ordinal)] : "";
            var value = line[(space + 1)..].Split(' ')[0];
            _samples.Add((name, labels, double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public IEnumerable<string> Names => _samples.Select(s => s.Name).Distinct();

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels contain every one of <paramref name="labels"/> (e.g. <c>outcome="failed"</c>).</summary>
    public double Sum(string name, params string[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value);

    public bool Has(string name) => _samples.Any(s => s.Name == name);
}
