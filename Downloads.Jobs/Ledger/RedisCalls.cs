using StackExchange.Redis;

namespace Downloads.Jobs.Ledger;

/// <summary>How every Redis-backed store calls Redis.</summary>
internal static class RedisCalls
{
    /// <summary>
    /// Redis down or slow is one failure to callers: the store is unavailable (503), not a bug (500). Redis calls
    /// take no token; the wait for them does.
    /// </summary>
    public static async Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation().WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
        {
            throw new JobStoreUnavailableException("Redis is unavailable.", ex);
        }
    }
}
