using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Downloads.Tests.Browser;

/// <summary>The download manager page at <c>/</c>, driven through its <c>data-testid</c>s.</summary>
public sealed class DownloadManagerPage(IPage page)
{
    /// <summary>The client's localStorage key of the jobs it follows.</summary>
    public const string StorageKey = "downloads.jobs";

    public IPage Page => page;

    /// <summary>Transport of the page's hub connection: WebSockets, ServerSentEvents, LongPolling or "polling (fallback)".</summary>
    public ILocator ConnectionTransport => page.GetByTestId("connection-transport");

    public ILocator Cards => page.GetByTestId("job-card");

    /// <summary>Opens <c>/{query}</c> in a new page of <paramref name="context"/> and waits until the form can be used.</summary>
    public static async Task<DownloadManagerPage> OpenAsync(IBrowserContext context, Uri baseAddress, string query = "")
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(baseAddress, "/" + query).ToString());
        await Expect(page.GetByTestId("start-button")).ToBeEnabledAsync();
        return new DownloadManagerPage(page);
    }

    /// <summary>Types the ids, clicks Start and returns the new job's card (the newest is listed first).</summary>
    public async Task<JobCard> StartAsync(params long[] fileIds)
    {
        var before = await Cards.CountAsync();
        await page.GetByTestId("file-ids-input").FillAsync(string.Join(", ", fileIds));
        await page.GetByTestId("start-button").ClickAsync();
        await Expect(page.GetByTestId("form-error")).ToHaveCountAsync(0);
        await Expect(Cards).ToHaveCountAsync(before + 1);
        var jobId = await Cards.First.GetAttributeAsync("data-job-id");
        return Job(Guid.Parse(jobId!));
    }

    public JobCard Job(Guid jobId) =>
        new(jobId, page.Locator($"[data-testid='job-card'][data-job-id='{jobId}']"));

    public Task<string> StoredJobsAsync() =>
        page.EvaluateAsync<string>("key => localStorage.getItem(key) ?? ''", StorageKey);

    /// <summary>The page's width as laid out, to catch horizontal overflow.</summary>
    public Task<int> ScrollWidthAsync() =>
        page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth");
}

/// <summary>One job's card on the page.</summary>
public sealed class JobCard(Guid jobId, ILocator card)
{
    // 1–99: the bar has moved but the job has not finished.
    private static readonly Regex PartialPercent = new("^[1-9][0-9]?$");

    public Guid JobId => jobId;

    public ILocator Root => card;

    public ILocator Progress => card.GetByTestId("job-progress");

    public ILocator Transport => card.GetByTestId("job-transport");

    public ILocator PauseButton => card.GetByTestId("pause-button");

    public ILocator ResumeButton => card.GetByTestId("resume-button");

    public ILocator CancelButton => card.GetByTestId("cancel-button");

    public ILocator FileRows => card.GetByTestId("file-row");

    public ILocator FileRow(long fileId) => card.Locator($"[data-testid='file-row'][data-file-id='{fileId}']");

    public ILocator DownloadLink(long fileId) => FileRow(fileId).GetByTestId("download-link");

    /// <summary>Waits for the card's <c>data-status</c> (the job status the client holds).</summary>
    public async Task ExpectStatusAsync(string status)
    {
        await Expect(card).ToHaveAttributeAsync("data-status", status);
        await Expect(card.GetByTestId("job-status")).ToHaveTextAsync(status);
    }

    /// <summary>Waits until the progress bar shows a value strictly between 0 and 100, and returns it.</summary>
    public async Task<int> ExpectPartialProgressAsync()
    {
        await Expect(Progress).ToHaveAttributeAsync("aria-valuenow", PartialPercent);
        return int.Parse(await Progress.GetAttributeAsync("aria-valuenow") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<string>> FileStatusesAsync()
    {
        var statuses = new List<string>();
        foreach (var row in await FileRows.AllAsync())
        {
            statuses.Add(await row.GetAttributeAsync("data-status") ?? "");
        }

        return statuses;
    }
}
