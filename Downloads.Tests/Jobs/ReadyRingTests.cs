using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Redis;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Tests.Jobs;

/// <summary>
/// The ready ring that runs take files from, as both stores keep it: fair order across clients then across each
/// client's jobs, and membership that follows the job's state in the same commit.
/// </summary>
public abstract class ReadyRingTests
{
    private const int Parallel = 4;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    protected abstract IJobStore Store { get; }

    private JobLedger Ledger => new(Store, new JobEventPublisher([], NullLogger<JobEventPublisher>.Instance), TimeProvider.System);

    [Fact]
    public async Task Picks_go_round_the_clients_then_round_each_clients_jobs_until_a_job_comes_round_again()
    {
        var a1 = await CreateAsync("a", 1);
        var a2 = await CreateAsync("a", 1);
        var a3 = await CreateAsync("a", 1);
        var b1 = await CreateAsync("b", 1);

        var first = await Store.NextReadyAsync(6, CancellationToken.None);
        var second = await Store.NextReadyAsync(6, CancellationToken.None);

        first.Should().Equal([a1, b1, a2], "b1 would come round again next");
        second.Should().Equal([b1, a3], "b1 kept its turn and leads the next round, which ends when it comes round again");
    }

    [Fact]
    public async Task A_job_leaves_the_ring_when_its_last_file_is_claimed_and_comes_back_when_a_file_is_given_back()
    {
        var job = await CreateAsync("a", 2);
        await StartAsync(job);
        await ClaimAsync(job, 0, "run-1#a");
        (await Store.AnyReadyAsync(CancellationToken.None)).Should().BeTrue("file 1 is still pending");

        await ClaimAsync(job, 1, "run-1#a");
        (await Store.AnyReadyAsync(CancellationToken.None)).Should().BeFalse();

        await Ledger.UpdateFileAsync(job, 1, (h, f, now) => JobTransitions.ReleaseFile(h, f, "run-1#a", now), CancellationToken.None);
        (await Store.NextReadyAsync(1, CancellationToken.None)).Should().Equal(job);
    }

    [Fact]
    public async Task A_paused_job_leaves_the_ring_and_a_resumed_one_comes_back()
    {
        var job = await CreateAsync("a", 3);

        await Ledger.UpdateAsync(job, (h, _) => JobTransitions.Pause(h), CancellationToken.None);
        (await Store.AnyReadyAsync(CancellationToken.None)).Should().BeFalse();

        await Ledger.UpdateAsync(job, (h, now) => JobTransitions.Resume(h, now), CancellationToken.None);
        (await Store.NextReadyAsync(2, CancellationToken.None)).Should().Equal(job);
    }

    [Fact]
    public async Task A_forgotten_job_leaves_the_ring()
    {
        var forgotten = await CreateAsync("a", 1);
        var kept = await CreateAsync("b", 1);

        await Store.DeleteAsync([forgotten], CancellationToken.None);

        (await Store.NextReadyAsync(3, CancellationToken.None)).Should().Equal(kept);
    }

    [Fact]
    public async Task A_job_dropped_from_the_ring_is_no_longer_picked()
    {
        var dropped = await CreateAsync("a", 1);
        var kept = await CreateAsync("a", 1);

        await Store.DropReadyAsync(dropped, CancellationToken.None);

        (await Store.NextReadyAsync(2, CancellationToken.None)).Should().Equal(kept);
    }

    private async Task<Guid> CreateAsync(string client, int files)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), [.. Enumerable.Range(0, files).Select(i => 70000L + i)], null, "http://localhost", Now);
        await Store.CreateAsync(job with { Header = job.Header with { Client = client } }, CancellationToken.None);
        return job.Id;
    }

    private Task<JobUpdate?> StartAsync(Guid job) => Ledger.UpdateAsync(job, (h, now) => JobTransitions.Start(h, now), CancellationToken.None);

    private async Task ClaimAsync(Guid job, int index, string owner) =>
        (await Ledger.UpdateFileAsync(job, index, (h, f, now) => JobTransitions.ClaimFile(h, f, owner, Parallel, now), CancellationToken.None))!
            .Changed.Should().BeTrue();
}

public sealed class InMemoryReadyRingTests : ReadyRingTests
{
    protected override IJobStore Store { get; } = new InMemoryJobStore(TimeProvider.System, Options.Create(new RetentionOptions()));
}

public sealed class RedisReadyRingTests : ReadyRingTests, IAsyncLifetime
{
    private readonly RedisOptions _options = new() { KeyPrefix = RedisServer.NewKeyPrefix() };
    private IConnectionMultiplexer _redis = null!;

    protected override IJobStore Store => new RedisJobStore(_redis, Options.Create(_options), Options.Create(new RetentionOptions()));

    public async Task InitializeAsync() => _redis = RedisConnection.Connect((await RedisServer.Shared).ConnectionString, _options);

    public async Task DisposeAsync() => await _redis.DisposeAsync();
}
