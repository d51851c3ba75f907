using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary><c>Downloads:Storage:SyntheticSizeBytes</c>: the benchmarks' fixed-size synthetic files.</summary>
public sealed class SyntheticSizeTests
{
    [Fact]
    public async Task Every_prepared_synthetic_file_has_the_configured_size()
    {
        await using var app = new DownloadsApplication()
            .With("Downloads:Storage:SyntheticSizeBytes", "1024")
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0");
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000, 70007]);

        var status = await api.WaitForEndAsync(job.JobId);

        status.Results.Select(r => r.Size).Should().Equal(1024, 1024);
        using var download = await api.Http.GetAsync(status.Results[0].DownloadUrl).DefaultTimeout();
        (await download.Content.ReadAsByteArrayAsync()).Should().HaveCount(1024);
    }

    [Fact]
    public async Task A_negative_synthetic_size_is_refused_at_start()
    {
        await using var app = new DownloadsApplication().With("Downloads:Storage:SyntheticSizeBytes", "-1");

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain("SyntheticSizeBytes");
    }
}
