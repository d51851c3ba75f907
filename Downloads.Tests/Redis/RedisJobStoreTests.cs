using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Redis;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Tests.Redis;

/// <summary>
/// The Redis job store's own promises: compare-and-set commits of a header and one file, a bounded replayable log,
/// retention, one binding per key; and the ledger over it from two processes at once.
/// </summary>
public sealed class RedisJobStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private readonly RedisOptions _options = new() { KeyPrefix = RedisServer.NewKeyPrefix() };
    private readonly IOptions<RetentionOptions> _retention = Options.Create(new RetentionOptions { EndedJobs = TimeSpan.FromHours(2), MaxJobAge = TimeSpan.FromDays(3) });
    private IConnectionMultiplexer _redis = null!;
    private RedisJobStore _store = null!;

    public async Task InitializeAsync()
    {
        _redis = RedisConnection.Connect((await RedisServer.Shared).ConnectionString, _options);
        _store = new RedisJobStore(_redis, Options.Create(_options), _retention);
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task A_commit_from_a_stale_version_is_refused()
    {
        var job = await CreateAsync(70000);

        (await CommitAsync(job.Header with { Seq = 2 })).Should().BeTrue();
        (await CommitAsync(job.Header with { Seq = 2 })).Should().BeFalse("seq 1 is no longer the stored version");
        (await _store.GetHeaderAsync(job.Id, CancellationToken.None))!.Seq.Should().Be(2);
    }

    [Fact]
    public async Task A_commit_writes_the_header_and_the_one_file_it_names()
    {
        var job = await CreateAsync(70000, 70007, 70014);
        var changed = job.Files[1] with { Status = FileStatus.Failed, ErrorCode = "not_found" };

        (await CommitAsync(job.Header with { Seq = 2, Failed = 1 }, changed)).Should().BeTrue();

        var stored = (await _store.GetAsync(job.Id, CancellationToken.None))!;
        stored.Header.Failed.Should().Be(1);
        stored.Files.Should().Equal(job.Files[0], changed, job.Files[2]);
        (await _store.GetFilesAsync(job.Id, [1, 3], CancellationToken.None))!.Files.Should().Equal(changed);
    }

    [Fact]
    public async Task Events_are_replayed_from_the_log_until_it_no_longer_holds_them()
    {
        var job = await CreateAsync(70000);
        var capacity = InMemoryJobStore.EventLogCapacity;
        for (var seq = 2; seq <= capacity + 11; seq++)
        {
            (await CommitAsync(job.Header with { Seq = seq })).Should().BeTrue();
        }

        var last = capacity + 11;
        (await _store.GetEventsAfterAsync(job.Id, last - 3, CancellationToken.None))!.Select(e => e.Seq).Should().Equal(last - 2, last - 1, last);
        (await _store.GetEventsAfterAsync(job.Id, last, CancellationToken.None)).Should().BeEmpty();
        (await _store.GetEventsAfterAsync(job.Id, 5, CancellationToken.None)).Should().BeNull("the log keeps the last events only: a snapshot is due");
    }

    [Fact]
    public async Task An_ended_job_expires_after_the_retention_time_and_a_running_one_at_its_max_age()
    {
        var job = await CreateAsync(70000);
        await CommitAsync(job.Header with { Seq = 2, Status = JobStatus.Processing });
        var maxAge = Now + TimeSpan.FromDays(3) - DateTimeOffset.UtcNow;
        (await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}")).Should().BeCloseTo(maxAge, TimeSpan.FromMinutes(1));
        (await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}:events")).Should().BeCloseTo(maxAge, TimeSpan.FromMinutes(1));

        await CommitAsync(job.Header with { Seq = 3, Status = JobStatus.Cancelled });

        var ttl = await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}");
        ttl.Should().BeCloseTo(TimeSpan.FromHours(2), TimeSpan.FromMinutes(1));
        (await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}:events")).Should().BeCloseTo(TimeSpan.FromHours(2), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task A_job_never_committed_expires_at_its_max_age()
    {
        var job = await CreateAsync(70000);

        var ttl = await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}");

        ttl.Should().BeCloseTo(Now + TimeSpan.FromDays(3) - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), "a job stranded before its first change is forgotten too");
    }

    [Fact]
    public async Task The_commits_of_a_job_that_never_ends_do_not_keep_it_past_its_max_age()
    {
        var created = DateTimeOffset.UtcNow - TimeSpan.FromDays(3) + TimeSpan.FromSeconds(2);
        var job = DownloadJob.Create(Guid.NewGuid(), [70000], null, "http://localhost", created);
        await _store.CreateAsync(job, CancellationToken.None);
        (await CommitAsync(job.Header with { Seq = 2, Status = JobStatus.Processing })).Should().BeTrue();
        (await CommitAsync(job.Header with { Seq = 3, Status = JobStatus.Paused })).Should().BeTrue();

        await Task.Delay(TimeSpan.FromSeconds(3));

        (await _store.GetHeaderAsync(job.Id, CancellationToken.None)).Should().BeNull("it was created three days ago, its max age");
        (await _redis.GetDatabase().KeyExistsAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}:events")).Should().BeFalse("its event log goes with it");
    }

    [Fact]
    public async Task Concurrent_bindings_of_one_key_agree_on_the_first()
    {
        var bindings = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            _store.BindIdempotencyKeyAsync(new IdempotencyBinding("same-key", "fingerprint", Guid.NewGuid(), 1), TimeSpan.FromMinutes(5), CancellationToken.None)));

        bindings.Select(b => b.JobId).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Two_processes_working_one_job_keep_seq_gap_free_and_claim_every_file_once()
    {
        const int files = 60;
        var job = await CreateAsync([.. Enumerable.Range(0, files).Select(i => 70000L + i)]);
        await using var otherRedis = RedisConnection.Connect((await RedisServer.Shared).ConnectionString, _options);
        JobLedger[] ledgers = [Ledger(_store), Ledger(new RedisJobStore(otherRedis, Options.Create(_options), _retention))];
        await ledgers[0].UpdateAsync(job.Id, (h, now) => JobTransitions.Start(h, now), CancellationToken.None);

        // Four workers per process, each claiming the next file and completing it, as runs do.
        var claims = await Task.WhenAll(ledgers.SelectMany(ledger => Enumerable.Range(0, 4).Select(w => WorkAsync(ledger, job.Id, $"run-{ledger.GetHashCode()}-{w}"))));

        var ended = (await _store.GetAsync(job.Id, CancellationToken.None))!;
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Files.Should().OnlyContain(f => f.Status == FileStatus.Completed && f.Attempts == 1);
        claims.SelectMany(c => c).Should().OnlyHaveUniqueItems().And.HaveCount(files, "every file is claimed once");
        claims.Take(4).Sum(c => c.Count).Should().BeGreaterThan(0, "the first process took files");
        claims.Skip(4).Sum(c => c.Count).Should().BeGreaterThan(0, "the second process took files");
        var events = (await _store.GetEventsAfterAsync(job.Id, 1, CancellationToken.None))!;
        events.Select(e => e.Seq).Should().Equal(Enumerable.Range(2, (int)ended.Seq - 1).Select(s => (long)s), "seq has no gaps and no repeats");
        events.Select(e => e.ProgressPercent).Should().BeInAscendingOrder("percent never decreases");
        ended.Seq.Should().Be(1 + 1 + (2 * files), "one start, then one claim and one completion per file");
    }

    [Fact]
    public async Task A_change_of_a_1000_file_job_moves_as_many_bytes_and_commands_as_one_of_a_20_file_job()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var connection = RedisConnection.Connect(redis.ConnectionString, _options);
        var store = new RedisJobStore(connection, Options.Create(_options), _retention);
        var ledger = Ledger(store);

        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        var small = await CostOfTenFilesAsync(server, store, ledger, 20);
        var large = await CostOfTenFilesAsync(server, store, ledger, 1000);

        large.Commands.Should().Be(small.Commands, "a change runs the same commands whatever the job's size");
        large.BytesIn.Should().BeLessThan((long)(small.BytesIn * 1.1), "a change sends the header and one file, not the job");
        large.BytesOut.Should().BeLessThan((long)(small.BytesOut * 1.1), "a change reads the header and one file, not the job");
    }

    [Fact]
    public async Task A_process_decides_on_what_it_last_committed_and_reads_once_per_eight_files()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var connection = RedisConnection.Connect(redis.ConnectionString, _options);
        var store = new RedisJobStore(connection, Options.Create(_options), _retention);
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        await CostOfTenFilesAsync(server, store, Ledger(store), 100);

        var calls = (await server.InfoAsync("commandstats")).SelectMany(g => g)
            .ToDictionary(p => p.Key, p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));
        calls.GetValueOrDefault("cmdstat_evalsha").Should().Be(20, "one commit per claim and per completion");
        calls.GetValueOrDefault("cmdstat_hmget").Should().Be(2, "a read brings the file to change and the next seven");
    }

    [Fact]
    public async Task A_file_another_process_claimed_is_not_claimed_again_from_what_this_one_read_before()
    {
        var job = await CreateAsync([.. Enumerable.Range(0, 10).Select(i => 70000L + i)]);
        await using var otherRedis = RedisConnection.Connect((await RedisServer.Shared).ConnectionString, _options);
        var (first, second) = (Ledger(_store), Ledger(new RedisJobStore(otherRedis, Options.Create(_options), _retention)));
        await first.UpdateAsync(job.Id, (h, now) => JobTransitions.Start(h, now), CancellationToken.None);

        // The first process claims file 0 and so reads files 1-7 as pending; the second then claims file 1.
        await first.UpdateFileAsync(job.Id, 0, (h, f, now) => JobTransitions.ClaimFile(h, f, "run-a", 4, now), CancellationToken.None);
        await second.UpdateFileAsync(job.Id, 1, (h, f, now) => JobTransitions.ClaimFile(h, f, "run-b", 4, now), CancellationToken.None);
        var late = await first.UpdateFileAsync(job.Id, 1, (h, f, now) => JobTransitions.ClaimFile(h, f, "run-a", 4, now), CancellationToken.None);

        late!.Changed.Should().BeFalse("the stored file is run-b's: the first process's guess failed its commit and was read again");
        late.File!.Status.Should().Be(FileStatus.Processing);
        var stored = (await _store.GetAsync(job.Id, CancellationToken.None))!;
        stored.Header.InFlight.Should().ContainSingle(f => f.Index == 1).Which.Owner.Should().Be("run-b");
        stored.Seq.Should().Be(4, "a start and two claims");
    }

    // Claims and completes ten files of a new job of `size` files (the job does not end), measuring what Redis saw.
    private static async Task<(long Commands, long BytesIn, long BytesOut)> CostOfTenFilesAsync(
        IServer server, RedisJobStore store, JobLedger ledger, int size)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), [.. Enumerable.Range(0, size).Select(i => 70000L + i)], null, "http://localhost", Now);
        await store.CreateAsync(job, CancellationToken.None);
        await ledger.UpdateAsync(job.Id, (h, now) => JobTransitions.Start(h, now), CancellationToken.None);
        await server.ConfigResetStatisticsAsync();
        var header = await ledger.GetHeaderAsync(job.Id, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            header = await ClaimAndCompleteAsync(ledger, job.Id, header!, "run-1");
        }

        var stats = (await server.InfoAsync("stats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        var commands = (await server.InfoAsync("commandstats")).SelectMany(g => g)
            .Where(p => p.Key is not ("cmdstat_config" or "cmdstat_info" or "cmdstat_ping" or "cmdstat_echo"))
            .Sum(p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));
        return (commands, long.Parse(stats["total_net_input_bytes"], System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(stats["total_net_output_bytes"], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<List<long>> WorkAsync(JobLedger ledger, Guid jobId, string owner)
    {
        var claimed = new List<long>();
        var header = await ledger.GetHeaderAsync(jobId, CancellationToken.None);
        while (header is not null && JobTransitions.NextFile(header, maxParallel: 100) is { } index)
        {
            var claim = await ledger.UpdateFileAsync(jobId, index, (h, f, now) => JobTransitions.ClaimFile(h, f, owner, 100, now), CancellationToken.None);
            header = claim!.Job;
            if (claim is { Changed: true, File: { } file })
            {
                claimed.Add(file.FileId);
                header = (await ledger.UpdateFileAsync(jobId, index, (h, f, now) => Complete(h, f, owner, now), CancellationToken.None))!.Job;
            }
        }

        return claimed;
    }

    private static async Task<JobHeader> ClaimAndCompleteAsync(JobLedger ledger, Guid jobId, JobHeader header, string owner)
    {
        var index = JobTransitions.NextFile(header, 4)!.Value;
        await ledger.UpdateFileAsync(jobId, index, (h, f, now) => JobTransitions.ClaimFile(h, f, owner, 4, now), CancellationToken.None);
        return (await ledger.UpdateFileAsync(jobId, index, (h, f, now) => Complete(h, f, owner, now), CancellationToken.None))!.Job;
    }

    private static JobChange? Complete(JobHeader header, DownloadFile file, string owner, DateTimeOffset now) =>
        JobTransitions.CompleteFile(header, file, owner, 1024, "ab", now, TimeSpan.FromHours(1), _ => $"http://localhost/v1/files/{file.FileId}");

    private static JobLedger Ledger(IJobStore store) =>
        new(store, new JobEventPublisher([], NullLogger<JobEventPublisher>.Instance), TimeProvider.System);

    private async Task<DownloadJob> CreateAsync(params long[] fileIds)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), fileIds, null, "http://localhost", Now);
        await _store.CreateAsync(job, CancellationToken.None);
        return job;
    }

    private Task<bool> CommitAsync(JobHeader next, params DownloadFile[] files) =>
        _store.TryCommitAsync(next, files, JobDocuments.ToEvent(next, JobEventType.Progress), CancellationToken.None);
}
