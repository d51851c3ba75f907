using Downloads.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Downloads.Tests.Browser;

/// <summary>
/// One headless Debian chromium per test class (launching costs ~1 s; a context per test keeps tests apart).
/// Playwright drives the system browser: nothing is downloaded, neither at build nor at test time.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Debian's chromium, or the browser <c>DOWNLOADS_TEST_CHROMIUM</c> names (another distribution's path).</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("DOWNLOADS_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Every Playwright expectation is bounded by this unless a test says otherwise.</summary>
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(20);

    // Headless in a container: no GPU, /dev/shm is small, and nothing should phone home while tests run.
    private static readonly string[] Args =
    [
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    public async Task InitializeAsync()
    {
        // Missing chromium must fail loudly, on CI and on a laptop alike: a skipped browser suite looks green.
        if (!File.Exists(ExecutablePath))
        {
            var fix = Environment.GetEnvironmentVariable("CI") is { Length: > 0 }
                ? "CI is set: the CI script must install it (`apt-get install -y chromium`, as ./test.sh does)"
                : "Install it with `sudo apt-get install chromium` (Debian/Ubuntu), or point DOWNLOADS_TEST_CHROMIUM at a Chromium binary";
            throw new InvalidOperationException($"The browser tests need Chromium at {ExecutablePath}, which is missing. {fix}.");
        }

        Assertions.SetDefaultExpectTimeout((float)ExpectTimeout.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync().DefaultTimeout();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Args,
            Timeout = (float)ExpectTimeout.TotalMilliseconds,
        }).DefaultTimeout();
    }

    /// <summary>A fresh context (own cookies, localStorage, downloads) with bounded actions and navigations.</summary>
    public async Task<IBrowserContext> NewContextAsync(int width = 1200, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        }).DefaultTimeout();
        context.SetDefaultTimeout((float)ExpectTimeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)ExpectTimeout.TotalMilliseconds);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync().DefaultTimeout();
        }

        _playwright?.Dispose();
    }
}
