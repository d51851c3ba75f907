using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// Jobs in Redis, shared by every node. A job is one hash: <c>seq</c>, the header <c>h</c> and a field <c>f:{index}</c>
/// per file, plus a list of its recent events. A commit compares seq, writes the header and the file that changed,
/// appends the event, trims the log, sets the job's expiry and publishes, in one Lua script and one round trip: its
/// cost does not depend on the job's size. Whole jobs are read with one <c>HGETALL</c>. Both keys of a job expire
/// together: <see cref="RetentionOptions.Ended"/> after its last change once it ended, else
/// <see cref="RetentionOptions.MaxJobAge"/> after it was created.
/// </summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, IOptions<RedisOptions> options, IOptions<RetentionOptions> retention) : IJobStore
{
    private const string SeqField = "seq";
    private const string HeaderField = "h";

    // KEYS: job hash, event list. ARGV: seq, header, expiry (unix ms: its max age), then field/value pairs of the files.
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'h', ARGV[2])
        for i = 4, #ARGV, 200 do
          redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
        end
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        return 1
        """;

    // KEYS: job hash, event list. ARGV: expected seq, next seq, header, event, log capacity, channel, ttl ms of an ended
    // job (0: not ended), expiry of an unfinished one (unix ms: its max age), then field/value pairs of the files that
    // changed (one, except for a cancel). The event list is created by its first push: every commit sets its expiry too.
    private const string CommitScript = """
        local current = redis.call('HGET', KEYS[1], 'seq')
        if not current or current ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'h', ARGV[3])
        for i = 9, #ARGV, 200 do
          redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
        end
        redis.call('RPUSH', KEYS[2], ARGV[4])
        redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
        redis.call('PUBLISH', ARGV[6], ARGV[4])
        if tonumber(ARGV[7]) > 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[7])
          redis.call('PEXPIRE', KEYS[2], ARGV[7])
        else
          redis.call('PEXPIREAT', KEYS[1], ARGV[8])
          redis.call('PEXPIREAT', KEYS[2], ARGV[8])
        end
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
    private readonly RetentionOptions _retention = retention.Value;

    private IDatabase Db => redis.GetDatabase();

    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var fields = await Db.HashGetAllAsync(JobKey(jobId));
        if (fields.FirstOrDefault(f => f.Name == HeaderField) is not { Value.IsNull: false } headerField)
        {
            return null;
        }

        var header = Deserialize<JobHeader>(headerField.Value);
        var files = new DownloadFile[header.Total];
        foreach (var field in fields)
        {
            if (((string)field.Name!).StartsWith("f:", StringComparison.Ordinal))
            {
                var file = Deserialize<DownloadFile>(field.Value);
                files[file.Index] = file;
            }
        }

        return new DownloadJob(header, [.. files]);
    }, cancellationToken);

    public Task<JobHeader?> GetHeaderAsync(Guid jobId, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var header = await Db.HashGetAsync(JobKey(jobId), HeaderField);
        return header.IsNull ? null : Deserialize<JobHeader>(header);
    }, cancellationToken);

    public Task<JobFileState?> GetFileAsync(Guid jobId, int index, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var values = await Db.HashGetAsync(JobKey(jobId), [HeaderField, FileField(index)]);
        return values[0].IsNull || values[1].IsNull
            ? null
            : new JobFileState(Deserialize<JobHeader>(values[0]), Deserialize<DownloadFile>(values[1]));
    }, cancellationToken);

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken) => CreateManyAsync([job], cancellationToken);

    // One script per job, sent as one pipelined batch: one round trip for the whole group.
    public Task CreateManyAsync(IReadOnlyList<DownloadJob> jobs, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var batch = Db.CreateBatch();
        var creates = jobs.Select(job => batch.ScriptEvaluateAsync(
            CreateScript, [JobKey(job.Id), EventsKey(job.Id)], [job.Seq, Serialize(job.Header), MaxAgeExpiry(job.Header), .. FileValues(job.Files)])).ToList();
        batch.Execute();
        var created = await Task.WhenAll(creates);
        return created.All(c => (int)c == 1) ? true : throw new InvalidOperationException("A job exists already.");
    }, cancellationToken);

    public Task<bool> TryCommitAsync(JobHeader next, IReadOnlyList<DownloadFile> files, JobEvent jobEvent, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(next);
        var endedTtl = next.Status.IsTerminal() ? (long)Math.Max(1, _retention.Ended.TotalMilliseconds) : 0;
        var committed = await Db.ScriptEvaluateAsync(
            CommitScript,
            [JobKey(next.Id), EventsKey(next.Id)],
            [next.Seq - 1, next.Seq, Serialize(next), Serialize(jobEvent), InMemoryJobStore.EventLogCapacity, _options.EventsChannel, endedTtl,
             MaxAgeExpiry(next), .. FileValues(files)]);
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
        var events = ((RedisResult[])parts[1]!).Select(e => Deserialize<JobEvent>((RedisValue)e));
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
                return Deserialize<IdempotencyBinding>(held);
            }
        }
    }, cancellationToken);

    public Task ReleaseIdempotencyKeyAsync(string key, CancellationToken cancellationToken) =>
        GuardAsync(() => Db.KeyDeleteAsync(IdempotencyKey(key)), cancellationToken);

    public Task DeleteAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken) =>
        GuardAsync(() => Db.KeyDeleteAsync([.. jobIds.SelectMany(id => new[] { JobKey(id), EventsKey(id) })]), cancellationToken);

    // The job id in braces is a hash tag: a job's keys share one cluster slot, as the scripts need.
    private RedisKey JobKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}";

    private RedisKey EventsKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}:events";

    private RedisKey IdempotencyKey(string key) => $"{_options.KeyPrefix}idempotency:{key}";

    private static RedisValue FileField(int index) => $"f:{index}";

    // Absolute, from the job's creation: the commits of a job that never ends do not keep it alive.
    private long MaxAgeExpiry(JobHeader job) => (job.CreatedAt + _retention.MaxJobAge).ToUnixTimeMilliseconds();

    private static IEnumerable<RedisValue> FileValues(IEnumerable<DownloadFile> files) =>
        files.SelectMany(f => new[] { FileField(f.Index), (RedisValue)Serialize(f) });

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, DownloadsJson.Options);

    private static T Deserialize<T>(RedisValue value) => JsonSerializer.Deserialize<T>((string)value!, DownloadsJson.Options)!;

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
