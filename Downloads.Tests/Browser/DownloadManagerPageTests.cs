using System.Security.Cryptography;
using Downloads.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Downloads.Tests.Browser;

/// <summary>A person using the download manager page: start, watch, download, reload, pause, cancel, on a phone.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DownloadManagerPageTests(ChromiumFixture chromium, PacedJobsApplication app)
    : IClassFixture<ChromiumFixture>, IClassFixture<PacedJobsApplication>, IAsyncLifetime
{
    private static readonly long[] ThreeFiles = [70000, 70007, 70014];
    private readonly DownloadsApi _api = new(app.CreateApiClient());
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await chromium.NewContextAsync();

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task Starting_a_job_shows_the_bar_move_to_completed_and_its_links_download_the_right_bytes()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);

        var job = await page.StartAsync(ThreeFiles);

        await job.ExpectStatusAsync("completed");
        await Expect(job.Progress).ToHaveAttributeAsync("aria-valuenow", "100");
        // The bar moved through at least one value between 0 and 100, and never went back.
        var progress = await page.ProgressHistoryAsync(job.JobId);
        progress.Should().Contain(v => v > 0 && v < 100).And.BeInAscendingOrder().And.EndWith(100);
        await Expect(job.Root.GetByTestId("download-link")).ToHaveCountAsync(ThreeFiles.Length);

        var download = await page.Page.RunAndWaitForDownloadAsync(() => job.DownloadLink(70007).ClickAsync());
        await using var bytes = File.OpenRead(await download.PathAsync());
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(bytes));
        var status = await _api.StatusAsync(job.JobId);
        sha256.Should().Be(status.Results.Single(r => r.FileId == 70007).Sha256);
    }

    [Fact]
    public async Task Reloading_mid_job_brings_the_card_back_from_local_storage_and_it_completes()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        var job = await page.StartAsync(ThreeFiles);
        await job.ExpectStatusAsync("processing");
        (await page.StoredJobsAsync()).Should().Contain(job.JobId.ToString());

        await page.Page.ReloadAsync();

        var recovered = page.Job(job.JobId);
        await Expect(recovered.Root).ToBeVisibleAsync();
        // Reloaded before the job could end: the card must be following a running job, not a finished one.
        (await _api.StatusAsync(job.JobId)).Status.Should().NotBe(Contracts.JobStatus.Completed);
        await recovered.ExpectStatusAsync("completed");
        await Expect(recovered.Root.GetByTestId("download-link")).ToHaveCountAsync(ThreeFiles.Length);
    }

    [Fact]
    public async Task Cancel_button_cancels_the_job_and_skips_the_files_not_done()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        var job = await page.StartAsync(ThreeFiles);
        await job.ExpectStatusAsync("processing");

        await job.CancelButton.ClickAsync();

        await job.ExpectStatusAsync("cancelled");
        await Expect(job.FileRow(ThreeFiles[^1])).ToHaveAttributeAsync("data-status", "skipped");
        (await job.FileStatusesAsync()).Should().OnlyContain(s => s == "completed" || s == "skipped");
        await Expect(job.CancelButton).ToBeDisabledAsync();
    }

    [Fact]
    public async Task Pause_button_pauses_the_job_and_resume_button_finishes_it()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        var job = await page.StartAsync(ThreeFiles);
        await job.ExpectStatusAsync("processing");

        await job.PauseButton.ClickAsync();

        // Paused once the file in flight ends; the last file cannot have started.
        await job.ExpectStatusAsync("paused");
        await Expect(job.FileRow(ThreeFiles[^1])).ToHaveAttributeAsync("data-status", "pending");
        await Expect(job.ResumeButton).ToBeEnabledAsync();

        await job.ResumeButton.ClickAsync();

        await job.ExpectStatusAsync("completed");
        (await job.FileStatusesAsync()).Should().OnlyContain(s => s == "completed");
    }

    [Fact]
    public async Task A_375_px_wide_phone_shows_the_card_and_its_buttons_without_horizontal_scrolling()
    {
        await using var phone = await chromium.NewContextAsync(width: 375, height: 812);
        var page = await DownloadManagerPage.OpenAsync(phone, app.BaseAddress);

        var job = await page.StartAsync(70000, 70007);
        await job.ExpectStatusAsync("completed");

        await Expect(job.Root).ToBeVisibleAsync();
        foreach (var button in new[] { job.PauseButton, job.ResumeButton, job.CancelButton, job.Root.GetByTestId("dismiss-button") })
        {
            await Expect(button).ToBeVisibleAsync();
            await button.ScrollIntoViewIfNeededAsync();
            await Expect(button).ToBeInViewportAsync();
        }

        await Expect(job.DownloadLink(70007)).ToBeVisibleAsync();
        (await page.ScrollWidthAsync()).Should().BeLessThanOrEqualTo(375);
    }
}
