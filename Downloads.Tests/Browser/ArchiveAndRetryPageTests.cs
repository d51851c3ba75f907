using System.IO.Compression;
using System.Security.Cryptography;
using Downloads.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Downloads.Tests.Browser;

/// <summary>A person with a partly failed job: "Download all" saves one ZIP, "Retry failed" starts a job of the failures.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ArchiveAndRetryPageTests(ChromiumFixture chromium, DownloadsApplication app)
    : IClassFixture<ChromiumFixture>, IClassFixture<DownloadsApplication>, IAsyncLifetime
{
    // Synthetic storage: 70001 and 70002 do not exist, so the job completes with two failures.
    private static readonly long[] TwoFailures = [70000, 70001, 70007, 70002];
    private readonly DownloadsApi _api = new(app.CreateApiClient());
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await chromium.NewContextAsync();

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task Download_all_saves_one_zip_of_the_completed_files()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        var job = await page.StartAsync(TwoFailures);
        await job.ExpectStatusAsync("completed");

        var download = await page.Page.RunAndWaitForDownloadAsync(() => job.DownloadAllLink.ClickAsync());

        download.SuggestedFilename.Should().Be($"{job.JobId}.zip");
        using var zip = ZipFile.OpenRead(await download.PathAsync());
        var status = await _api.StatusAsync(job.JobId);
        zip.Entries.Select(e => e.FullName).Should().Equal("70000.zip", "70007.zip");
        zip.Entries.Select(Sha256).Should().Equal(
            status.Results.Where(r => r.Status == Contracts.FileStatus.Completed).Select(r => r.Sha256));
    }

    [Fact]
    public async Task Retry_failed_starts_a_job_of_exactly_the_failed_files_and_leaves_the_first_as_it_was()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        var job = await page.StartAsync(TwoFailures);
        await job.ExpectStatusAsync("completed");
        var cards = await page.Cards.CountAsync();

        await job.RetryButton.ClickAsync();

        await Expect(page.Cards).ToHaveCountAsync(cards + 1);
        var retry = page.Job(Guid.Parse((await page.Cards.First.GetAttributeAsync("data-job-id"))!));
        retry.JobId.Should().NotBe(job.JobId);
        await Expect(retry.RetryOf).ToHaveAttributeAsync("title", job.JobId.ToString());
        await retry.ExpectStatusAsync("failed");
        await Expect(retry.FileRows).ToHaveCountAsync(2);
        (await retry.FileRows.EvaluateAllAsync<long[]>("rows => rows.map(r => Number(r.dataset.fileId))")).Should().Equal(70001, 70002);
        await Expect(retry.DownloadAllLink).ToHaveCountAsync(0);
        await Expect(job.Root).ToHaveAttributeAsync("data-status", "completed");
    }

    [Fact]
    public async Task A_job_without_failures_offers_no_retry()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);

        var job = await page.StartAsync(70000);

        await job.ExpectStatusAsync("completed");
        await Expect(job.DownloadAllLink).ToBeVisibleAsync();
        await Expect(job.RetryButton).ToHaveCountAsync(0);
    }

    private static string Sha256(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
