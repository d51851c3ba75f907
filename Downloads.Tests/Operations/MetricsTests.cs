using System.Net;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Operations;

/// <summary><c>/metrics</c> after a real job: the Prometheus text shows its counters, histograms and gauges.</summary>
public sealed class MetricsTests : IClassFixture<DownloadsApplication>
{
    private readonly DownloadsApplication _app;
    private readonly DownloadsApi _api;

    public MetricsTests(DownloadsApplication app)
    {
        _app = app;
        _api = new DownloadsApi(app.CreateApiClient());
    }

    [Fact]
    public async Task A_finished_job_shows_in_the_scrape()
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        await _api.WaitForEndAsync(job.JobId);

        var metrics = await ScrapeAsync(_api.Http);

        // Other test hosts in this process share the meter name: at least, not exactly.
        metrics.Sum("downloads_jobs_initiated_total").Should().BeGreaterThanOrEqualTo(1, metrics.Text);
        metrics.Sum("downloads_jobs_completed_total").Should().BeGreaterThanOrEqualTo(1);
        metrics.Sum("downloads_files_processed_total", "outcome=\"completed\"").Should().BeGreaterThanOrEqualTo(2);
        metrics.Sum("downloads_files_processed_total", "outcome=\"failed\"").Should().BeGreaterThanOrEqualTo(1);
        metrics.Sum("downloads_file_duration_seconds_count").Should().BeGreaterThanOrEqualTo(3);
        metrics.Sum("downloads_job_duration_seconds_count", "status=\"completed\"").Should().BeGreaterThanOrEqualTo(1);
        metrics.Has("downloads_job_duration_seconds_bucket").Should().BeTrue();
        metrics.Sum("downloads_queue_wait_seconds_count").Should().BeGreaterThanOrEqualTo(1);
        metrics.Has("downloads_queue_depth").Should().BeTrue();
        metrics.Has("downloads_queue_oldest_age_seconds").Should().BeTrue();
        metrics.Sum("downloads_hangfire_servers").Should().BeGreaterThanOrEqualTo(1);
        metrics.Sum("downloads_hub_messages_sent_total").Should().BeGreaterThanOrEqualTo(1);
    }

    // Read from this host's meter only: other hosts in the process share the meter's name, and their
    // connections closing would show as negative deltas in this host's scrape.
    [Theory]
    [InlineData(HttpTransportType.WebSockets, "websockets")]
    [InlineData(HttpTransportType.LongPolling, "longpolling")]
    public async Task Hub_connections_are_counted_by_transport_while_open(HttpTransportType transport, string label)
    {
        var job = await _api.InitiateAsync([70000]);
        var open = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var listener = HostMeasurements.Listen(_app.Services, "downloads.hub.connections", (_, delta, tags, _) =>
        {
            foreach (var tag in tags)
            {
                open.AddOrUpdate((string)tag.Value!, delta, (_, count) => count + delta);
            }
        });

        await using (var client = await JobEventRecorder.FollowAsync(_app.BaseAddress, job.JobId, transport))
        {
            await WaitUntilAsync(() => open.GetValueOrDefault(label) == 1);
        }

        await WaitUntilAsync(() => open.GetValueOrDefault(label) == 0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    public static async Task<PrometheusText> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics").DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }
}
