namespace Downloads.Tests.Infrastructure;

/// <summary>Files that take long enough to act on a job mid-flight: one at a time, ~2 s each.</summary>
public sealed class SlowJobsApplication : DownloadsApplication
{
    public SlowJobsApplication()
    {
        With("Downloads:Processing:DelayMinMs", "2000");
        With("Downloads:Processing:DelayMaxMs", "2000");
        With("Downloads:Processing:MaxParallelFilesPerJob", "1");
    }
}
