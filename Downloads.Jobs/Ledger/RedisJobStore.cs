using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Downloads.Jobs.Ledger.RedisCalls;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// Jobs in Redis, shared by every node. A job is one hash: <c>seq</c>, the header <c>h</c> and a field <c>f:{index}</c>
/// per file, plus a list of its recent events. A commit compares seq, writes the header and the file that changed,
/// appends the event, trims the log, sets the job's expiry and publishes, in one Lua script and one round trip: its
/// cost does not depend on the job's size. The same script moves the job in or out of the ready ring (lists of
/// clients and of their jobs) when the change made it ready or not. Whole jobs are read with one <c>HGETALL</c>.
/// Both keys of a job expire together: <see cref="RetentionOptions.Ended"/> after its last change once it ended,
/// else <see cref="RetentionOptions.MaxJobAge"/> after it was created. A job that expires while ready leaves the
/// ring when a run next picks it and finds it gone (see <c>DownloadRun</c>).
/// </summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, IOptions<RedisOptions> options, IOptions<RetentionOptions> retention) : IJobStore
{
    private const string SeqField = "seq";
    private const string HeaderField = "h";

    // The ready ring (see JoinReady): KEYS[3] job → client hash, KEYS[4] ring of clients, KEYS[5] the client's ring
    // of jobs; ARGV[ready], ARGV[ready + 1] job id, ARGV[ready + 2] client, ARGV[ready + 3] the channel that tells idle
    // runs a job joined. A job joins or leaves in the same script as the change that made it ready or not, so the ring
    // never misses a ready job.
    private const string ReadyFunction = """
        local function set_ready(ready, job, client, channel)
          if ready == '1' then
            if redis.call('HSETNX', KEYS[3], job, client) == 1 then
              if redis.call('RPUSH', KEYS[5], job) == 1 then redis.call('RPUSH', KEYS[4], client) end
              redis.call('PUBLISH', channel, '')
            end
          elseif redis.call('HDEL', KEYS[3], job) == 1 then
            redis.call('LREM', KEYS[5], 1, job)
            if redis.call('LLEN', KEYS[5]) == 0 then redis.call('LREM', KEYS[4], 1, client) end
          end
        end

        """;

    // KEYS: job hash, event list, then the ready ring's. ARGV: seq, header, ready, job id, client, ready channel, expiry
    // (unix ms: its max age), then field/value pairs of the files.
    private const string CreateScript = ReadyFunction + """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'h', ARGV[2])
        for i = 8, #ARGV, 200 do
          redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
        end
        redis.call('PEXPIREAT', KEYS[1], ARGV[7])
        set_ready(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        return 1
        """;

    // KEYS: job hash, event list, then the ready ring's. ARGV: expected seq, next seq, header, event, log capacity, channel,
    // ttl ms of an ended job (0: not ended), expiry of an unfinished one (unix ms: its max age), ready, job id, client,
    // ready channel, then field/value pairs of the files that changed (one, except for a cancel). The event list is created by its
    // first push: every commit sets its expiry too.
    private const string CommitScript = ReadyFunction + """
        local current = redis.call('HGET', KEYS[1], 'seq')
        if not current or current ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'h', ARGV[3])
        for i = 13, #ARGV, 200 do
          redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
        end
        set_ready(ARGV[9], ARGV[10], ARGV[11], ARGV[12])
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

    // KEYS: ring of clients. ARGV: most picks, prefix of the clients' rings. Each pick rotates the ring of clients,
    // then the picked client's ring of jobs; the first job to come round again ends the round, and its turn is
    // given back (both rotations undone), so it leads the next round.
    private const string NextReadyScript = """
        local picks, seen = {}, {}
        for i = 1, tonumber(ARGV[1]) do
          local client = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
          if not client then break end
          local ring = ARGV[2] .. client
          local job = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
          if not job then break end
          if seen[job] then
            redis.call('LMOVE', ring, ring, 'RIGHT', 'LEFT')
            redis.call('LMOVE', KEYS[1], KEYS[1], 'RIGHT', 'LEFT')
            break
          end
          seen[job] = true
          picks[#picks + 1] = job
        end
        return picks
        """;

    // KEYS: the ready ring's (the client's ring is found by the script). ARGV: job id, prefix of the clients' rings.
    private const string DropReadyScript = """
        local client = redis.call('HGET', KEYS[1], ARGV[1])
        if not client then return 0 end
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('LREM', ARGV[2] .. client, 1, ARGV[1])
        if redis.call('LLEN', ARGV[2] .. client) == 0 then redis.call('LREM', KEYS[2], 1, client) end
        return 1
        """;

    private readonly RedisOptions _options = options.Value;
    private readonly ReadySignal _joined = new();
    private Task? _listening;
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

    public Task<JobFilesState?> GetFilesAsync(Guid jobId, IReadOnlyList<int> indices, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(indices);
        var values = await Db.HashGetAsync(JobKey(jobId), [HeaderField, .. indices.Select(FileField)]);
        return values[0].IsNull
            ? null
            : new JobFilesState(Deserialize<JobHeader>(values[0]), [.. values.Skip(1).Where(v => !v.IsNull).Select(Deserialize<DownloadFile>)]);
    }, cancellationToken);

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken) => CreateManyAsync([job], cancellationToken);

    // One script per job, sent as one pipelined batch: one round trip for the whole group.
    public Task CreateManyAsync(IReadOnlyList<DownloadJob> jobs, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var batch = Db.CreateBatch();
        var creates = jobs.Select(job => batch.ScriptEvaluateAsync(
            CreateScript,
            [JobKey(job.Id), EventsKey(job.Id), .. ReadyKeysOf(job.Header)],
            [job.Seq, Serialize(job.Header), .. ReadyValues(job.Header), MaxAgeExpiry(job.Header), .. FileValues(job.Files)])).ToList();
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
            [JobKey(next.Id), EventsKey(next.Id), .. ReadyKeysOf(next)],
            [next.Seq - 1, next.Seq, Serialize(next), Serialize(jobEvent), InMemoryJobStore.EventLogCapacity, _options.EventsChannel, endedTtl,
             MaxAgeExpiry(next), .. ReadyValues(next), .. FileValues(files)]);
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

    public Task DeleteAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var batch = Db.CreateBatch();
        List<Task> deletes = [.. jobIds.Select(id => DropReadyAsync(batch, id))];
        deletes.Add(batch.KeyDeleteAsync([.. jobIds.SelectMany(id => new[] { JobKey(id), EventsKey(id) })]));
        batch.Execute();
        await Task.WhenAll(deletes);
        return true;
    }, cancellationToken);

    public Task<IReadOnlyList<Guid>> NextReadyAsync(int count, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var picks = (RedisResult[])(await Db.ScriptEvaluateAsync(NextReadyScript, [ReadyClientsKey], [count, ClientRingPrefix]))!;
        return (IReadOnlyList<Guid>)[.. picks.Select(p => Guid.Parse((string)p!))];
    }, cancellationToken);

    public Task<bool> AnyReadyAsync(CancellationToken cancellationToken) =>
        GuardAsync(async () => await Db.HashLengthAsync(ReadyJobsKey) > 0, cancellationToken);

    // The first call subscribes this process to the channel the scripts publish on when a job joins (the multiplexer
    // subscribes again by itself after a reconnect); a subscription that failed is tried again by the next call.
    public Task<Task> ListenForReadyAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        if (Volatile.Read(ref _listening) is not { } listening)
        {
            var subscribing = redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ReadyChannel), (_, _) => _joined.Pulse());
            listening = Interlocked.CompareExchange(ref _listening, subscribing, null) ?? subscribing;
        }

        try
        {
            await listening;
        }
        catch
        {
            _ = Interlocked.CompareExchange(ref _listening, null, listening);
            throw;
        }

        return _joined.Next;
    }, cancellationToken);

    public Task DropReadyAsync(Guid jobId, CancellationToken cancellationToken) =>
        GuardAsync(() => DropReadyAsync(Db, jobId), cancellationToken);

    private Task<RedisResult> DropReadyAsync(IDatabaseAsync db, Guid jobId) =>
        db.ScriptEvaluateAsync(DropReadyScript, [ReadyJobsKey, ReadyClientsKey], [jobId.ToString("D"), ClientRingPrefix]);

    // The job id in braces is a hash tag, so a job's keys share one slot; the ready ring is shared by every job, so
    // the scripts need one Redis (or a primary with replicas), not a cluster.
    private RedisKey JobKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}";

    private RedisKey EventsKey(Guid jobId) => $"{_options.KeyPrefix}job:{{{jobId:D}}}:events";

    // The ready ring: which client each ready job belongs to, the ring of clients, and one ring of jobs per client.
    private RedisKey ReadyJobsKey => $"{_options.KeyPrefix}ready:jobs";

    private RedisKey ReadyClientsKey => $"{_options.KeyPrefix}ready:clients";

    private string ClientRingPrefix => $"{_options.KeyPrefix}ready:client:";

    private RedisKey[] ReadyKeysOf(JobHeader job) => [ReadyJobsKey, ReadyClientsKey, ClientRingPrefix + ReadyKeys.ClientOf(job)];

    private RedisValue[] ReadyValues(JobHeader job) =>
        [JobTransitions.IsReady(job) ? "1" : "0", job.Id.ToString("D"), ReadyKeys.ClientOf(job), ReadyChannel];

    private string ReadyChannel => $"{_options.KeyPrefix}ready";

    private RedisKey IdempotencyKey(string key) => $"{_options.KeyPrefix}idempotency:{key}";

    private static RedisValue FileField(int index) => $"f:{index}";

    // Absolute, from the job's creation: the commits of a job that never ends do not keep it alive.
    private long MaxAgeExpiry(JobHeader job) => (job.CreatedAt + _retention.MaxJobAge).ToUnixTimeMilliseconds();

    private static IEnumerable<RedisValue> FileValues(IEnumerable<DownloadFile> files) =>
        files.SelectMany(f => new[] { FileField(f.Index), (RedisValue)Serialize(f) });

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, DownloadsJson.Options);

    private static T Deserialize<T>(RedisValue value) => JsonSerializer.Deserialize<T>((string)value!, DownloadsJson.Options)!;
}
