using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Tests.Jobs;

/// <summary>The job state machine, as pure functions of the header and the one file a change concerns.</summary>
public sealed class JobTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_file_is_claimed_only_within_the_jobs_parallelism()
    {
        var job = Started(70000, 70007, 70014);
        job = Claim(job, 0, "run-1", maxParallel: 2);
        job = Claim(job, 1, "run-2", maxParallel: 2);

        JobTransitions.NextFile(job.Header, maxParallel: 2).Should().BeNull();
        JobTransitions.ClaimFile(job.Header, job.Files[2], "run-3", maxParallel: 2, Now).Should().BeNull();
    }

    [Fact]
    public void Files_are_taken_in_request_order_and_never_ahead_of_the_next_pending_one()
    {
        var job = Started(70000, 70007, 70014);

        JobTransitions.NextFile(job.Header, 4).Should().Be(0);
        JobTransitions.ClaimFile(job.Header, job.Files[1], "run-1", 4, Now).Should().BeNull("file 0 comes first");
        JobTransitions.NextFile(Claim(job, 0, "run-1").Header, 4).Should().Be(1);
    }

    [Fact]
    public void Another_run_never_takes_a_file_in_flight()
    {
        var job = Claim(Started(70000), 0, "run-1");

        JobTransitions.ClaimFile(job.Header, job.Files[0], "run-2", 4, Now).Should().BeNull();
    }

    [Fact]
    public void A_rerun_of_the_same_run_takes_its_file_back_as_a_new_attempt()
    {
        var first = JobTransitions.RunOwner("42");
        var second = JobTransitions.RunOwner("42");
        var job = Claim(Started(70000), 0, first);

        JobTransitions.HeldByEarlierDelivery(job.Header, second).Should().Be(0);
        var retaken = Claim(job, 0, second);

        retaken.Files[0].Attempts.Should().Be(2);
        retaken.Header.InFlight.Should().ContainSingle().Which.Owner.Should().Be(second);
    }

    [Fact]
    public void A_completed_file_is_never_claimed_again()
    {
        var job = Started(70000, 70007);
        job = Claim(job, 0, "run-1");
        job = Complete(job, 0, "run-1");

        JobTransitions.ClaimFile(job.Header, job.Files[0], "run-1", 4, Now).Should().BeNull();
        JobTransitions.NextFile(job.Header, 4).Should().Be(1);
    }

    [Fact]
    public void A_released_file_is_taken_again_before_the_files_not_yet_started_and_keeps_its_attempts()
    {
        var job = Started(70000, 70007, 70014);
        job = Claim(job, 0, "run-1");
        job = Apply(job, JobTransitions.ReleaseFile(job.Header, job.Files[0], "run-1", Now));

        JobTransitions.NextFile(job.Header, 4).Should().Be(0);
        Claim(job, 0, "run-2").Files[0].Attempts.Should().Be(2);
    }

    [Fact]
    public void The_last_file_ending_ends_the_job_completed_when_one_completed()
    {
        var job = Started(70000, 70001);
        job = Claim(job, 0, "a");
        job = Claim(job, 1, "b");
        job = Complete(job, 0, "a");

        var change = JobTransitions.FailFile(job.Header, job.Files[1], "b", "not_found", "missing", Now)!;

        change.Type.Should().Be(JobEventType.Completed);
        change.Next.Status.Should().Be(JobStatus.Completed);
        change.Next.Should().Match<JobHeader>(h => h.Completed == 1 && h.Failed == 1 && h.InFlight.IsEmpty);
    }

    [Fact]
    public void A_job_whose_files_all_failed_is_failed()
    {
        var job = Claim(Started(70001), 0, "a");

        JobTransitions.FailFile(job.Header, job.Files[0], "a", "not_found", "missing", Now)!.Next.Status.Should().Be(JobStatus.Failed);
    }

    [Fact]
    public void Cancel_skips_pending_and_in_flight_files_and_keeps_completed_ones()
    {
        var job = Started(70000, 70007, 70014);
        job = Claim(job, 0, "a");
        job = Complete(job, 0, "a");
        job = Claim(job, 1, "b");

        var cancelled = Apply(job, JobTransitions.Cancel(job, Now));

        cancelled.Files.Select(f => f.Status).Should().Equal(FileStatus.Completed, FileStatus.Skipped, FileStatus.Skipped);
        cancelled.Files[0].DownloadUrl.Should().NotBeNull();
        cancelled.Header.Should().Match<JobHeader>(h => h.Skipped == 2 && h.InFlight.IsEmpty && JobTransitions.ComputePercent(h) == 100);
        JobTransitions.CompleteFile(cancelled.Header, cancelled.Files[1], "b", 1, "x", Now, TimeSpan.FromHours(1), _ => "url")
            .Should().BeNull("a run that finishes after the cancel records nothing");
    }

    [Fact]
    public void Pause_with_a_file_in_flight_pauses_when_that_file_ends()
    {
        var job = Claim(Started(70000, 70007), 0, "a");

        job = Apply(job, JobTransitions.Pause(job.Header));
        job.Header.Status.Should().Be(JobStatus.Processing);
        JobTransitions.NextFile(job.Header, 4).Should().BeNull("no new file starts while pausing");
        JobTransitions.ClaimFile(job.Header, job.Files[1], "b", 4, Now).Should().BeNull();

        var change = JobTransitions.CompleteFile(job.Header, job.Files[0], "a", 1024, "ab", Now, TimeSpan.FromHours(1), _ => "url")!;
        change.Type.Should().Be(JobEventType.Paused);
        change.Next.Status.Should().Be(JobStatus.Paused);
    }

    [Fact]
    public void Resume_continues_with_the_files_not_yet_done()
    {
        var started = Started(70000, 70007);
        var job = Apply(started, JobTransitions.Pause(started.Header));

        var resumed = Apply(job, JobTransitions.Resume(job.Header, Now));

        resumed.Header.Status.Should().Be(JobStatus.Processing);
        JobTransitions.NextFile(resumed.Header, 4).Should().Be(0);
        JobTransitions.HasFilesToStart(resumed.Header).Should().BeTrue();
    }

    [Fact]
    public void Percent_counts_files_in_flight_by_their_fraction()
    {
        var job = Claim(Started(70000, 70007), 0, "a");
        job = Apply(job, JobTransitions.TickFile(job.Header, job.Files[0], "a", 0.5, Now, TimeSpan.Zero));

        JobTransitions.ComputePercent(job.Header).Should().Be(25);
        job.Header.CurrentFile.Should().Be(70000);
    }

    [Fact]
    public void Percent_never_decreases_when_a_file_is_given_back()
    {
        var job = Claim(Started(70000, 70007), 0, "a");
        job = Apply(job, JobTransitions.TickFile(job.Header, job.Files[0], "a", 0.5, Now, TimeSpan.Zero));
        job = job with { Header = job.Header with { Percent = JobTransitions.ComputePercent(job.Header) } };

        var released = JobTransitions.ReleaseFile(job.Header, job.Files[0], "a", Now)!.Next;

        JobTransitions.ComputePercent(released).Should().Be(25);
    }

    [Fact]
    public void Within_file_ticks_are_throttled_per_job()
    {
        var job = Claim(Started(70000), 0, "a");
        job = Apply(job, JobTransitions.TickFile(job.Header, job.Files[0], "a", 0.2, Now, TimeSpan.FromSeconds(1)));

        JobTransitions.TickFile(job.Header, job.Files[0], "a", 0.4, Now.AddMilliseconds(500), TimeSpan.FromSeconds(1)).Should().BeNull();
    }

    [Fact]
    public void Every_link_of_a_job_shares_the_expiry_of_the_first()
    {
        var job = Started(70000, 70007);
        job = Claim(job, 0, "a");
        job = Claim(job, 1, "b");
        job = Complete(job, 0, "a");

        var later = JobTransitions.CompleteFile(job.Header, job.Files[1], "b", 1, "x", Now.AddMinutes(5), TimeSpan.FromHours(1), e => $"expires {e:O}")!;

        later.Next.ExpiresAt.Should().Be(Now.AddHours(1));
        later.File!.DownloadUrl.Should().Be($"expires {Now.AddHours(1):O}");
    }

    private static DownloadJob Started(params long[] fileIds)
    {
        var job = DownloadJob.Create(Guid.NewGuid(), fileIds, null, "http://localhost", Now);
        return Apply(job, JobTransitions.Start(job.Header, Now));
    }

    private static DownloadJob Claim(DownloadJob job, int index, string owner, int maxParallel = 4) =>
        Apply(job, JobTransitions.ClaimFile(job.Header, job.Files[index], owner, maxParallel, Now));

    private static DownloadJob Complete(DownloadJob job, int index, string owner) =>
        Apply(job, JobTransitions.CompleteFile(job.Header, job.Files[index], owner, 1024, "ab", Now, TimeSpan.FromHours(1), _ => $"http://localhost/v1/files/{index}"));

    // What the ledger does with a change: the next seq, the header, and the files it wrote.
    internal static DownloadJob Apply(DownloadJob job, JobChange? change)
    {
        change.Should().NotBeNull();
        var files = !change!.Files.IsDefault ? change.Files : change.File is { } file ? job.Files.SetItem(file.Index, file) : job.Files;
        return new DownloadJob(change.Next with { Seq = job.Seq + 1 }, files);
    }
}
