using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Tests.Jobs;

/// <summary>The job state machine, as pure functions.</summary>
public sealed class JobTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_file_is_claimed_only_within_the_jobs_parallelism()
    {
        var job = Started(70000, 70007, 70014);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "run-1", maxParallel: 2, Now));
        job = Apply(job, JobTransitions.ClaimFile(job, 70007, "run-2", maxParallel: 2, Now));

        JobTransitions.ClaimFile(job, 70014, "run-3", maxParallel: 2, Now).Should().BeNull();
    }

    [Fact]
    public void Another_run_never_takes_a_file_in_flight()
    {
        var job = Started(70000);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "run-1", 4, Now));

        JobTransitions.ClaimFile(job, 70000, "run-2", 4, Now).Should().BeNull();
    }

    [Fact]
    public void A_rerun_of_the_same_owner_takes_its_file_back_as_a_new_attempt()
    {
        var job = Started(70000);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "run-1", 4, Now));

        var retaken = Apply(job, JobTransitions.ClaimFile(job, 70000, "run-1", 4, Now));

        retaken.Files[0].Attempts.Should().Be(2);
    }

    [Fact]
    public void A_completed_file_is_never_claimed_again()
    {
        var job = Started(70000, 70007);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "run-1", 4, Now));
        job = Apply(job, Complete(job, 70000, "run-1"));

        JobTransitions.ClaimFile(job, 70000, "run-1", 4, Now).Should().BeNull();
    }

    [Fact]
    public void The_last_file_ending_ends_the_job_completed_when_one_completed()
    {
        var job = Started(70000, 70001);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));
        job = Apply(job, JobTransitions.ClaimFile(job, 70001, "b", 4, Now));
        job = Apply(job, Complete(job, 70000, "a"));

        var change = JobTransitions.FailFile(job, 70001, "b", "not_found", "missing", Now)!;

        change.Type.Should().Be(JobEventType.Completed);
        change.Next.Status.Should().Be(JobStatus.Completed);
    }

    [Fact]
    public void A_job_whose_files_all_failed_is_failed()
    {
        var job = Started(70001);
        job = Apply(job, JobTransitions.ClaimFile(job, 70001, "a", 4, Now));

        JobTransitions.FailFile(job, 70001, "a", "not_found", "missing", Now)!.Next.Status.Should().Be(JobStatus.Failed);
    }

    [Fact]
    public void Cancel_skips_pending_and_in_flight_files_and_keeps_completed_ones()
    {
        var job = Started(70000, 70007, 70014);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));
        job = Apply(job, Complete(job, 70000, "a"));
        job = Apply(job, JobTransitions.ClaimFile(job, 70007, "b", 4, Now));

        var cancelled = JobTransitions.Cancel(job, Now)!.Next;

        cancelled.Files.Select(f => f.Status).Should().Equal(FileStatus.Completed, FileStatus.Skipped, FileStatus.Skipped);
        cancelled.Files[0].DownloadUrl.Should().NotBeNull();
        JobTransitions.CompleteFile(cancelled, 70007, "b", 1, "x", Now, TimeSpan.FromHours(1), _ => "url")
            .Should().BeNull("a run that finishes after the cancel records nothing");
    }

    [Fact]
    public void Pause_with_a_file_in_flight_pauses_when_that_file_ends()
    {
        var job = Started(70000, 70007);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));

        job = Apply(job, JobTransitions.Pause(job));
        job.Status.Should().Be(JobStatus.Processing);
        JobTransitions.ClaimFile(job, 70007, "b", 4, Now).Should().BeNull("no new file starts while pausing");

        var change = Complete(job, 70000, "a")!;
        change.Type.Should().Be(JobEventType.Paused);
        change.Next.Status.Should().Be(JobStatus.Paused);
    }

    [Fact]
    public void Resume_continues_with_the_files_not_yet_done()
    {
        var job = Apply(Started(70000, 70007), JobTransitions.Pause(Started(70000, 70007)));

        var resumed = Apply(job, JobTransitions.Resume(job, Now));

        resumed.Status.Should().Be(JobStatus.Processing);
        JobTransitions.FilesToStart(resumed, 4).Should().Equal(70000, 70007);
    }

    [Fact]
    public void Percent_counts_files_in_flight_by_their_fraction()
    {
        var job = Started(70000, 70007);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));
        job = Apply(job, JobTransitions.TickFile(job, 70000, "a", 0.5, Now, TimeSpan.Zero));

        JobTransitions.ComputePercent(job).Should().Be(25);
    }

    [Fact]
    public void Within_file_ticks_are_throttled_per_job()
    {
        var job = Started(70000);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));
        job = Apply(job, JobTransitions.TickFile(job, 70000, "a", 0.2, Now, TimeSpan.FromSeconds(1)));

        JobTransitions.TickFile(job, 70000, "a", 0.4, Now.AddMilliseconds(500), TimeSpan.FromSeconds(1)).Should().BeNull();
    }

    [Fact]
    public void Every_link_of_a_job_shares_the_expiry_of_the_first()
    {
        var job = Started(70000, 70007);
        job = Apply(job, JobTransitions.ClaimFile(job, 70000, "a", 4, Now));
        job = Apply(job, JobTransitions.ClaimFile(job, 70007, "b", 4, Now));
        job = Apply(job, Complete(job, 70000, "a"));

        var later = JobTransitions.CompleteFile(job, 70007, "b", 1, "x", Now.AddMinutes(5), TimeSpan.FromHours(1), e => $"expires {e:O}")!;

        later.Next.ExpiresAt.Should().Be(Now.AddHours(1));
        later.Next.Files[1].DownloadUrl.Should().Be($"expires {Now.AddHours(1):O}");
    }

    private static DownloadJob Started(params long[] fileIds)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), fileIds, null, "http://localhost", Now);
        return JobTransitions.Start(job, Now)!.Next;
    }

    private static JobChange? Complete(DownloadJob job, long fileId, string owner) =>
        JobTransitions.CompleteFile(job, fileId, owner, 1024, "ab", Now, TimeSpan.FromHours(1), _ => $"http://localhost/v1/files/{fileId}");

    private static DownloadJob Apply(DownloadJob job, JobChange? change)
    {
        change.Should().NotBeNull();
        return change!.Next;
    }
}
