using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Redis;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Tests.Redis;

/// <summary>The Redis job store's own promises: compare-and-set commits, a bounded replayable log, retention, one binding per key.</summary>
public sealed class RedisJobStoreTests : IAsyncLifetime
{
    private readonly RedisOptions _options = new() { KeyPrefix = RedisServer.NewKeyPrefix(), RetentionHours = 2 };
    private IConnectionMultiplexer _redis = null!;
    private RedisJobStore _store = null!;

    public async Task InitializeAsync()
    {
        _redis = RedisConnection.Connect((await RedisServer.Shared).ConnectionString, _options);
        _store = new RedisJobStore(_redis, Options.Create(_options));
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task A_commit_from_a_stale_version_is_refused()
    {
        var job = await CreateAsync();

        (await CommitAsync(job with { Seq = 2 })).Should().BeTrue();
        (await CommitAsync(job with { Seq = 2 })).Should().BeFalse("seq 1 is no longer the stored version");
        (await _store.GetAsync(job.Id, CancellationToken.None))!.Seq.Should().Be(2);
    }

    [Fact]
    public async Task Events_are_replayed_from_the_log_until_it_no_longer_holds_them()
    {
        var job = await CreateAsync();
        var capacity = InMemoryJobStore.EventLogCapacity;
        for (var seq = 2; seq <= capacity + 11; seq++)
        {
            (await CommitAsync(job with { Seq = seq })).Should().BeTrue();
        }

        var last = capacity + 11;
        (await _store.GetEventsAfterAsync(job.Id, last - 3, CancellationToken.None))!.Select(e => e.Seq).Should().Equal(last - 2, last - 1, last);
        (await _store.GetEventsAfterAsync(job.Id, last, CancellationToken.None)).Should().BeEmpty();
        (await _store.GetEventsAfterAsync(job.Id, 5, CancellationToken.None)).Should().BeNull("the log keeps the last events only: a snapshot is due");
    }

    [Fact]
    public async Task An_ended_job_expires_after_the_retention_time_and_a_running_one_does_not()
    {
        var job = await CreateAsync();
        await CommitAsync(job with { Seq = 2, Status = JobStatus.Processing });
        (await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}")).Should().BeNull();

        await CommitAsync(job with { Seq = 3, Status = JobStatus.Cancelled });

        var ttl = await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}");
        ttl.Should().BeCloseTo(TimeSpan.FromHours(2), TimeSpan.FromMinutes(1));
        (await _redis.GetDatabase().KeyTimeToLiveAsync($"{_options.KeyPrefix}job:{{{job.Id:D}}}:events")).Should().BeCloseTo(TimeSpan.FromHours(2), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Concurrent_bindings_of_one_key_agree_on_the_first()
    {
        var bindings = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            _store.BindIdempotencyKeyAsync(new IdempotencyBinding("same-key", "fingerprint", Guid.NewGuid(), 1), TimeSpan.FromMinutes(5), CancellationToken.None)));

        bindings.Select(b => b.JobId).Distinct().Should().ContainSingle();
    }

    private async Task<DownloadJob> CreateAsync()
    {
        var job = DownloadJob.Create(Guid.NewGuid(), [70000], null, "http://localhost", DateTimeOffset.UtcNow);
        await _store.CreateAsync(job, CancellationToken.None);
        return job;
    }

    private Task<bool> CommitAsync(DownloadJob next) =>
        _store.TryCommitAsync(next, JobDocuments.ToEvent(next, JobEventType.Progress), CancellationToken.None);
}
