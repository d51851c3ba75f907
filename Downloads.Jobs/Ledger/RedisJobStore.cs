using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// Jobs in Redis, shared by every node. A job is a hash (<c>seq</c>, <c>doc</c>) and a list of its recent events;
/// a commit compares seq, stores, appends, trims and publishes in one Lua script, so every node sees one history.
/// Ended jobs expire after <see cref="RedisOptions.RetentionHours"/>.
/// </summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, IOptions<RedisOptions> options) : IJobStore
{
    // KEYS: job hash, event list. ARGV: seq, doc.
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'doc', ARGV[2])
        return 1
        """;

    // KEYS: job hash, event list. ARGV: expected seq, next seq, doc, event, log capacity, channel, ttl seconds (0: keep).
    private const string CommitScript = """
        local current = redis.call('HGET', KEYS[1], 'seq')
        if not current or current ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'doc', ARGV[3])
        redis.call('RPUSH', KEYS[2], ARGV[4])
        redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
        local ttl = tonumber(ARGV[7])
        if ttl > 0 then
          redis.call('EXPIRE', KEYS[1], ttl)
          redis.call('EXPIRE', KEYS[2], ttl)
        end
        redis.call('PUBLISH', ARGV[6], ARGV[4])
        return 1
        """;

    // KEYS: job hash, event list. ARGV: after seq. Returns {seq, {events...}}, only the tail that can matter.
    private const string EventsAfterScript = """
        local current = redis.call('HGET', KEYS[1], 'seq')
        if not current then return nil end
        local missing = tonumber(current) - tonumber(ARGV[1])
        if missing <= 0 then return {current, {}} end
        return {current, redis.call('LRANGE', KEYS[2], -missing, -1)}
        """;

    private readonly RedisOptions _options = options.Value;

    private IDatabase Db => redis.GetDatabase();

    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var doc = await Db.HashGetAsync(JobKey(jobId), "doc");
        return doc.IsNull ? null : JsonSerializer.Deserialize<DownloadJob>((string)doc!, DownloadsJson.Options);
    }, cancellationToken);

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var created = await Db.ScriptEvaluateAsync(
            CreateScript, [JobKey(job.Id), EventsKey(job.Id)], [job.Seq, Serialize(job)]);
        return (int)created == 1 ? true : throw new InvalidOperationException($"Job {job.Id} exists already.");
    }, cancellationToken);

    public Task<bool> TryCommitAsync(DownloadJob next, JobEvent jobEvent, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var ttl = next.Status.IsTerminal() ? (long)_options.Retention.TotalSeconds : 0;
        var committed = await Db.ScriptEvaluateAsync(
            CommitScript,
            [JobKey(next.Id), EventsKey(next.Id)],
            [next.Seq - 1, next.Seq, Serialize(next), Serialize(jobEvent), InMemoryJobStore.EventLogCapacity, _options.EventsChannel, ttl]);
        return (int)committed == 1;
    }, cancellationToken);

    public Task<IReadOnlyList<JobEvent>?> GetEventsAfterAsync(Guid jobId, long afterSeq, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var result = await Db.ScriptEvaluateAsync(EventsAfterScript, [JobKey(jobId), EventsKey(jobId)], [afterSeq]);
        if (result.IsNull)
        {
            return null;
        }

        var parts = (RedisResult[])result!;
        var events = ((RedisResult[])parts[1]!).Select(e => JsonSerializer.Deserialize<JobEvent>((string)e!, DownloadsJson.Options)!);
        return EventLog.After(events, (long)parts[0], afterSeq);
    }, cancellationToken);

    public Task<IdempotencyBinding> BindIdempotencyKeyAsync(IdempotencyBinding binding, TimeSpan lifetime, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var key = IdempotencyKey(binding.Key);
        while (true)
        {
            if (await Db.StringSetAsync(key, Serialize(binding), lifetime, When.NotExists))
            {
                return binding;
            }

            // Taken: the earlier request's binding holds, unless it expired in between (then try again).
            var held = await Db.StringGetAsync(key);
            if (!held.IsNull)
            {
                return JsonSerializer.Deserialize<IdempotencyBinding>((string)held!, DownloadsJson.Options)!;
            }
        }
    }, cancellationToken);

    public Task ReleaseIdempotencyKeyAsync(string key, CancellationToken cancellationToken) =>
        GuardAsync(() => Db.KeyDeleteAsync(IdempotencyKey(key)), cancellationToken);

    public Task DeleteAsync(Guid jobId, CancellationToken cancellationToken) =>
        GuardAsync(() => Db.KeyDeleteAsync([JobKey(jobId), EventsKey(jobId)]), cancellationToken);

    // The job id in braces is a hash tag: a job's keys share one cluster slot, as the scripts need.
    private RedisKey JobKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}";

    private RedisKey EventsKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}:events";

    private RedisKey IdempotencyKey(string key) => $"{_options.KeyPrefix}idempotency:{key}";

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, DownloadsJson.Options);

    // Redis down or slow is one failure to callers: the store is unavailable (503), not a bug (500).
    // Redis calls take no token; the wait for them does.
    private static async Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
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
