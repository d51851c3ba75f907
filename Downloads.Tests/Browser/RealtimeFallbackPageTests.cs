using Downloads.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Downloads.Tests.Browser;

/// <summary>
/// The page carries a job from start to completed whichever way updates can reach it: each SignalR
/// transport on its own, and plain polling of the status document when the hub is off or unreachable.
/// Each test owns its server, since the server's configuration is what varies. Files take a second, so the
/// page's first status read finds the job running and the rest of it has to arrive by the way under test.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RealtimeFallbackPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private const string PollingLabel = "polling (fallback)";
    private static readonly long[] TwoFiles = [70000, 70007];
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await chromium.NewContextAsync();

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Theory]
    [InlineData("ServerSentEvents")]
    [InlineData("LongPolling")]
    public async Task A_server_offering_one_transport_carries_the_job_to_completed_over_it(string transport)
    {
        await using var app = new PacedJobsApplication().With("Downloads:Realtime:Transports", transport);
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        // Connected before the job starts, so its events come over the hub rather than a first poll.
        await Expect(page.ConnectionTransport).ToHaveTextAsync(transport);

        await CompletesAsync(page, expectedTransport: transport);
    }

    [Fact]
    public async Task With_the_hub_turned_off_polling_carries_the_job_to_completed()
    {
        await using var app = new PacedJobsApplication();
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress, "?hub=off");
        await Expect(page.ConnectionTransport).ToHaveTextAsync(PollingLabel);

        await CompletesAsync(page, expectedTransport: PollingLabel);
    }

    [Fact]
    public async Task With_the_hub_unreachable_the_page_falls_back_to_polling_and_completes_the_job()
    {
        await using var app = new PacedJobsApplication().WithHubBlocked();
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        await Expect(page.ConnectionTransport).ToHaveTextAsync(PollingLabel);

        await CompletesAsync(page, expectedTransport: PollingLabel);
    }

    private static async Task CompletesAsync(DownloadManagerPage page, string expectedTransport)
    {
        var job = await page.StartAsync(TwoFiles);

        await job.ExpectStatusAsync("completed");
        await Expect(job.Root.GetByTestId("download-link")).ToHaveCountAsync(TwoFiles.Length);
        await Expect(job.Transport).ToHaveTextAsync(expectedTransport);
        await Expect(page.ConnectionTransport).ToHaveTextAsync(expectedTransport);
    }
}
