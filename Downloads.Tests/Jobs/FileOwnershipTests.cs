using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Tests.Jobs;

/// <summary>Two runs of one Hangfire job at once (Hangfire may deliver a job twice): the later claim owns the file.</summary>
public sealed class FileOwnershipTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_second_run_of_the_same_hangfire_job_takes_the_file_and_the_first_can_no_longer_record_it()
    {
        var job = Apply(DownloadJob.Create(Guid.NewGuid(), [70000], null, "http://localhost", Now), j => JobTransitions.Start(j, Now));
        var first = JobTransitions.RunOwner("42");
        var second = JobTransitions.RunOwner("42");

        job = Apply(job, j => JobTransitions.ClaimFile(j, 70000, first, 4, Now));
        job = Apply(job, j => JobTransitions.ClaimFile(j, 70000, second, 4, Now));

        job.Files[0].Should().Match<DownloadFile>(f => f.Owner == second && f.Attempts == 2 && f.Status == FileStatus.Processing);
        JobTransitions.TickFile(job, 70000, first, 0.5, Now, TimeSpan.Zero).Should().BeNull("the first run is no longer the owner: it stops");
        JobTransitions.FailFile(job, 70000, first, "x", "y", Now).Should().BeNull();
        JobTransitions.ClaimFile(job, 70000, JobTransitions.RunOwner("43"), 4, Now).Should().BeNull("another Hangfire job never takes a file in flight");
    }

    private static DownloadJob Apply(DownloadJob job, Func<DownloadJob, JobChange?> change) =>
        change(job) is { } next ? next.Next with { Seq = job.Seq + 1 } : throw new InvalidOperationException("no change");
}
