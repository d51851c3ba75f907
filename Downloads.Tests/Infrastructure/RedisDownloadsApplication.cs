namespace Downloads.Tests.Infrastructure;

/// <summary>The whole service in one process (role <c>all</c>) in Redis mode, on the shared test Redis with a prefix of its own.</summary>
public sealed class RedisDownloadsApplication : DownloadsApplication
{
    public RedisDownloadsApplication()
    {
        // A fixture's constructor cannot await; the shared server starts once per test run.
        WithRedis(RedisServer.Shared.GetAwaiter().GetResult(), RedisServer.NewKeyPrefix());
    }
}
