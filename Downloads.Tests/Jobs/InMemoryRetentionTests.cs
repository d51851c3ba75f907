using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Downloads.Tests.Jobs;

/// <summary>
/// In memory as in Redis: an ended job and its event log are forgotten <c>EndedJobs</c> after they ended, a job that
/// never ends <c>MaxJobAge</c> after it was created; sweeps ride on the store's writes; the files held are bounded.
/// </summary>
public sealed class InMemoryRetentionTests
{
    private static readonly TimeSpan Ended = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task An_ended_job_and_its_events_are_forgotten_once_the_retention_has_passed()
    {
        var store = Store();
        var ended = await CreateAsync(store);
        await CommitAsync(store, ended, 2, JobStatus.Processing);
        await CommitAsync(store, ended, 3, JobStatus.Completed);

        _time.Advance(Ended + TimeSpan.FromSeconds(1));
        await CreateAsync(store);

        (await store.GetAsync(ended.Id, CancellationToken.None)).Should().BeNull();
        (await store.GetEventsAfterAsync(ended.Id, 0, CancellationToken.None)).Should().BeNull("its event log went with it");
        store.JobCount.Should().Be(1, "only the job created after remains");
    }

    [Fact]
    public async Task An_ended_job_within_the_retention_is_kept()
    {
        var store = Store();
        var ended = await CreateAsync(store);
        await CommitAsync(store, ended, 2, JobStatus.Cancelled);

        _time.Advance(Ended - TimeSpan.FromSeconds(1));
        await CreateAsync(store);

        (await store.GetHeaderAsync(ended.Id, CancellationToken.None)).Should().NotBeNull();
    }

    [Fact]
    public async Task A_job_that_never_ends_is_forgotten_at_its_max_age()
    {
        var store = Store();
        var paused = await CreateAsync(store);
        await CommitAsync(store, paused, 2, JobStatus.Processing);
        _time.Advance(MaxAge - TimeSpan.FromMinutes(1));
        await CommitAsync(store, paused, 3, JobStatus.Paused);

        _time.Advance(TimeSpan.FromMinutes(2));
        await CreateAsync(store);

        (await store.GetHeaderAsync(paused.Id, CancellationToken.None)).Should().BeNull("its commits do not keep it past its max age");
    }

    [Fact]
    public async Task A_job_that_ends_near_its_max_age_is_kept_the_whole_retention()
    {
        var store = Store();
        var late = await CreateAsync(store);
        _time.Advance(MaxAge - TimeSpan.FromMinutes(1));
        await CommitAsync(store, late, 2, JobStatus.Failed);

        _time.Advance(Ended - TimeSpan.FromMinutes(1));
        await CreateAsync(store);

        (await store.GetHeaderAsync(late.Id, CancellationToken.None)).Should().NotBeNull("an ended job is kept its retention from its end");
    }

    [Fact]
    public async Task The_bookkeeping_of_expiry_stays_bounded_when_jobs_end_long_before_their_max_age()
    {
        var store = Store(maxAge: TimeSpan.FromDays(7));

        // A day and a half of one job a minute, each ending at once: an hour of them is held at any time.
        for (var i = 0; i < 2000; i++)
        {
            var job = await CreateAsync(store);
            await CommitAsync(store, job, 2, JobStatus.Completed);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        store.JobCount.Should().BeLessThanOrEqualTo(61);
        store.QueuedExpiries.Should().BeLessThan(1300, "the max-age items of jobs that ended are dropped, not held for 7 days");
    }

    [Fact]
    public async Task Files_beyond_the_cap_are_refused_until_stored_jobs_expire()
    {
        var store = Store(maxFiles: 5);
        var first = await CreateAsync(store, 70000, 70007, 70014);
        await CommitAsync(store, first, 2, JobStatus.Completed);
        _time.Advance(TimeSpan.FromMinutes(15));

        store.EnsureRoomFor(2);
        var full = store.Invoking(s => s.EnsureRoomFor(3)).Should().Throw<JobStoreFullException>().Which;
        full.RetryAfter.Should().Be(Ended - TimeSpan.FromMinutes(15), "that is when the ended job expires");

        _time.Advance(full.RetryAfter);
        store.EnsureRoomFor(5);
        store.StoredFiles.Should().Be(0);
    }

    [Fact]
    public async Task Deleted_jobs_give_their_files_back()
    {
        var store = Store(maxFiles: 3);
        var job = await CreateAsync(store, 70000, 70007, 70014);

        await store.DeleteAsync([job.Id], CancellationToken.None);

        store.EnsureRoomFor(3);
        store.StoredFiles.Should().Be(0);
    }

    [Theory]
    [InlineData(48, 24)]
    [InlineData(2, 2)]
    public void An_idempotency_key_lives_the_contracts_24_hours_or_the_retention_when_shorter(int endedHours, int keyHours)
    {
        new RetentionOptions { EndedJobs = TimeSpan.FromHours(endedHours) }.IdempotencyKeyLifetime.Should().Be(TimeSpan.FromHours(keyHours));
    }

    [Fact]
    public void The_former_whole_hour_setting_still_sets_the_retention()
    {
        new RetentionOptions { RetentionHours = 3 }.Ended.Should().Be(TimeSpan.FromHours(3));
        new RetentionOptions { RetentionHours = 3, EndedJobs = TimeSpan.FromMinutes(5) }.Ended.Should().Be(TimeSpan.FromMinutes(5));
    }

    private InMemoryJobStore Store(TimeSpan? maxAge = null, int maxFiles = 1000) => new(_time, Options.Create(new RetentionOptions
    {
        EndedJobs = Ended,
        MaxJobAge = maxAge ?? MaxAge,
        MaxInMemoryFiles = maxFiles,
    }));

    private async Task<DownloadJob> CreateAsync(InMemoryJobStore store, params long[] fileIds)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), fileIds.Length == 0 ? [70000] : fileIds, null, "http://localhost", _time.GetUtcNow());
        await store.CreateAsync(job, CancellationToken.None);
        return job;
    }

    private static async Task CommitAsync(InMemoryJobStore store, DownloadJob job, long seq, JobStatus status)
    {
        var next = job.Header with { Seq = seq, Status = status };
        (await store.TryCommitAsync(next, [], JobDocuments.ToEvent(next, JobEventType.Progress), CancellationToken.None)).Should().BeTrue();
    }
}
