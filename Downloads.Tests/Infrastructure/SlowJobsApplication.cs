namespace Downloads.Tests.Infrastructure;

/// <summary>
/// Files that take long enough to act on a job mid-flight: one at a time, ~2 s each. Runs end with their files (no idle
/// wait), so a test can watch a job's own run come and go in Hangfire.
/// </summary>
public class SlowJobsApplication : DownloadsApplication
{
    public SlowJobsApplication()
    {
        With("Downloads:Processing:DelayMinMs", "2000");
        With("Downloads:Processing:DelayMaxMs", "2000");
        With("Downloads:Processing:MaxParallelFilesPerJob", "1");
        With("Downloads:Processing:IdleLinger", "00:00:00");
    }
}

/// <summary>The same slow files in Redis mode, on the shared test Redis with a prefix of its own.</summary>
public sealed class RedisSlowJobsApplication : SlowJobsApplication
{
    public RedisSlowJobsApplication()
    {
        WithRedis(RedisServer.Shared.GetAwaiter().GetResult(), RedisServer.NewKeyPrefix());
    }
}
