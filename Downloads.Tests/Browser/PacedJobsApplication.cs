using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Browser;

/// <summary>
/// Jobs a person can watch and act on: one file at a time, one second each. Slow enough to click Pause,
/// Cancel or reload mid-job and to see the bar between 0 and 100, fast enough to keep the suite short.
/// </summary>
public sealed class PacedJobsApplication : DownloadsApplication
{
    public PacedJobsApplication() => Paced(this);

    /// <summary><paramref name="app"/> with paced jobs.</summary>
    public static DownloadsApplication Paced(DownloadsApplication app) => app
        .With("Downloads:Processing:DelayMinMs", "1000")
        .With("Downloads:Processing:DelayMaxMs", "1000")
        .With("Downloads:Processing:MaxParallelFilesPerJob", "1");
}
