using System.Security.Cryptography;
using Downloads.Contracts;
using Downloads.Tests.Access;
using Downloads.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Downloads.Tests.Browser;

/// <summary>
/// With API keys configured, a back end starts a job and hands the page its id and access token
/// (<c>/#job={id}&amp;access_token={token}</c>): the page follows it live, keeps the token across a reload, and its
/// links download; the job's URLs without the token are refused.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessTokenPageTests(ChromiumFixture chromium, AccessTokenPageTests.PacedJobsWithApiKeys app)
    : IClassFixture<ChromiumFixture>, IClassFixture<AccessTokenPageTests.PacedJobsWithApiKeys>, IAsyncLifetime
{
    // Ten seconds of files (existing ones: ids divisible by 7): the job still runs after the page loaded and reloaded.
    private static readonly long[] TenFiles = [.. Enumerable.Range(0, 10).Select(i => 70000L + (7 * i))];
    private readonly DownloadsApi _backEnd = AccessTestApps.Client(app, AccessTestApps.KeyA);
    private IBrowserContext _context = null!;

    /// <summary>Paced jobs (one file at a time, a second each) behind API keys.</summary>
    public sealed class PacedJobsWithApiKeys : DownloadsApplication
    {
        public PacedJobsWithApiKeys() => AccessTestApps.WithApiKeys(PacedJobsApplication.Paced(this));
    }

    public async Task InitializeAsync() => _context = await chromium.NewContextAsync();

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task A_handed_over_job_is_followed_live_survives_a_reload_and_its_links_download()
    {
        var started = await _backEnd.InitiateAsync(TenFiles);

        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress, $"#job={started.JobId}&access_token={started.AccessToken}");

        var job = page.Job(started.JobId);
        await job.ExpectStatusAsync("processing");
        await Expect(page.ConnectionTransport).ToHaveTextAsync("WebSockets");
        page.Page.Url.Should().NotContain("access_token", "the token leaves the address bar once remembered");
        (await page.StoredJobsAsync()).Should().Contain(started.AccessToken);

        await page.Page.ReloadAsync();

        // Reloaded before the job could end: the card follows a running job, with the token from localStorage alone.
        (await _backEnd.StatusAsync(started.JobId)).Status.Should().NotBe(JobStatus.Completed);
        await job.ExpectStatusAsync("completed");
        await Expect(page.ConnectionTransport).ToHaveTextAsync("WebSockets");
        await Expect(job.Root.GetByTestId("download-link")).ToHaveCountAsync(TenFiles.Length);
        var download = await page.Page.RunAndWaitForDownloadAsync(() => job.DownloadLink(70007).ClickAsync());
        await using var bytes = File.OpenRead(await download.PathAsync());
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(bytes));
        sha256.Should().Be((await _backEnd.StatusAsync(started.JobId)).Results.Single(r => r.FileId == 70007).Sha256);
    }

    [Fact]
    public async Task The_jobs_urls_answer_the_browser_with_the_token_and_refuse_it_without()
    {
        var started = await _backEnd.InitiateAsync(TenFiles);
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        string[] paths = [$"/v1/download/status/{started.JobId}", $"/v1/download/result/{started.JobId}", $"/v1/download/events/{started.JobId}"];

        var withToken = await StatusCodesAsync(page, paths.Select(p => $"{p}?access_token={started.AccessToken}"));
        var without = await StatusCodesAsync(page, paths);
        var negotiateWithout = await page.Page.EvaluateAsync<int>(
            "async url => (await fetch(url, { method: 'POST' })).status", $"/ws/download/{started.JobId}/negotiate?negotiateVersion=1");

        withToken.Should().OnlyContain(status => status == 200 || status == 202);
        without.Should().OnlyContain(status => status == 401);
        negotiateWithout.Should().Be(401);
    }

    [Fact]
    public async Task Starting_a_job_from_the_page_without_an_api_key_shows_the_401_problem()
    {
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);

        await page.Page.GetByTestId("start-button").ClickAsync();

        await Expect(page.Page.GetByTestId("form-error")).ToContainTextAsync("API key");
        await Expect(page.Cards).ToHaveCountAsync(0);
    }

    // Each URL fetched by the page itself (its origin, its cookies: none), reading the status only; streams are cut at once.
    private static Task<int[]> StatusCodesAsync(DownloadManagerPage page, IEnumerable<string> urls) =>
        page.Page.EvaluateAsync<int[]>(
            """
            async urls => Promise.all(urls.map(async url => {
              const controller = new AbortController();
              const response = await fetch(url, { signal: controller.signal });
              controller.abort();
              return response.status;
            }))
            """,
            urls.ToArray());
}
