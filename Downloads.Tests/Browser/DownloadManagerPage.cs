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

    // Records every value each job's progress bar shows, in order, from the moment its card appears:
    // polling the attribute from the test could miss a value that lasts less than a poll.
    private const string RecordProgressScript = """
        window.__progress = {};
        const record = (bar) => {
          const id = bar.closest('[data-testid="job-card"]')?.getAttribute('data-job-id');
          if (!id) return;
          const value = Number(bar.getAttribute('aria-valuenow'));
          const seen = (window.__progress[id] ??= []);
          if (seen[seen.length - 1] !== value) seen.push(value);
        };
        const bars = (node) => node.nodeType !== 1 ? [] :
          node.matches('[data-testid="job-progress"]') ? [node] : [...node.querySelectorAll('[data-testid="job-progress"]')];
        new MutationObserver((mutations) => {
          for (const m of mutations) {
            if (m.type === 'attributes') record(m.target);
            else m.addedNodes.forEach((n) => bars(n).forEach(record));
          }
        }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
        """;

    /// <summary>Opens <c>/{query}</c> in a new page of <paramref name="context"/> and waits until the form can be used.</summary>
    public static async Task<DownloadManagerPage> OpenAsync(IBrowserContext context, Uri baseAddress, string query = "")
    {
        var page = await context.NewPageAsync();
        await page.AddInitScriptAsync(RecordProgressScript);
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

    /// <summary>Every value the job's progress bar showed on this page load, in order (repeats collapsed).</summary>
    public Task<int[]> ProgressHistoryAsync(Guid jobId) =>
        page.EvaluateAsync<int[]>("id => window.__progress[id] ?? []", jobId.ToString());

    public Task<string> StoredJobsAsync() =>
        page.EvaluateAsync<string>("key => localStorage.getItem(key) ?? ''", StorageKey);

    /// <summary>The page's width as laid out, to catch horizontal overflow.</summary>
    public Task<int> ScrollWidthAsync() =>
        page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth");
}

/// <summary>One job's card on the page.</summary>
public sealed class JobCard(Guid jobId, ILocator card)
{
    public Guid JobId => jobId;

    public ILocator Root => card;

    public ILocator Progress => card.GetByTestId("job-progress");

    public ILocator Transport => card.GetByTestId("job-transport");

    public ILocator PauseButton => card.GetByTestId("pause-button");

    public ILocator ResumeButton => card.GetByTestId("resume-button");

    public ILocator CancelButton => card.GetByTestId("cancel-button");

    public ILocator DownloadAllLink => card.GetByTestId("download-all-link");

    public ILocator RetryButton => card.GetByTestId("retry-button");

    public ILocator RetryOf => card.GetByTestId("job-retry-of");

    public ILocator FileRows => card.GetByTestId("file-row");

    public ILocator FileRow(long fileId) => card.Locator($"[data-testid='file-row'][data-file-id='{fileId}']");

    public ILocator DownloadLink(long fileId) => FileRow(fileId).GetByTestId("download-link");

    /// <summary>Waits for the card's <c>data-status</c> (the job status the client holds).</summary>
    public async Task ExpectStatusAsync(string status)
    {
        await Expect(card).ToHaveAttributeAsync("data-status", status);
        await Expect(card.GetByTestId("job-status")).ToHaveTextAsync(status);
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
