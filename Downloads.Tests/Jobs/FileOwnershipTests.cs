using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Tests.Jobs;

/// <summary>Two deliveries of one run at once (Hangfire may deliver a job twice): the later claim owns the file.</summary>
public sealed class FileOwnershipTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_second_delivery_of_the_same_run_takes_the_file_and_the_first_can_no_longer_record_it()
    {
        var created = DownloadJob.Create(Guid.NewGuid(), [70000], null, "http://localhost", Now);
        var job = JobTransitionsTests.Apply(created, JobTransitions.Start(created.Header, Now));
        var first = JobTransitions.RunOwner("42");
        var second = JobTransitions.RunOwner("42");

        job = JobTransitionsTests.Apply(job, JobTransitions.ClaimFile(job.Header, job.Files[0], first, 4, Now));
        job = JobTransitionsTests.Apply(job, JobTransitions.ClaimFile(job.Header, job.Files[0], second, 4, Now));

        job.Files[0].Should().Match<DownloadFile>(f => f.Owner == second && f.Attempts == 2 && f.Status == FileStatus.Processing);
        JobTransitions.TickFile(job.Header, job.Files[0], first, 0.5, Now, TimeSpan.Zero).Should().BeNull("the first delivery is no longer the owner: it stops");
        JobTransitions.FailFile(job.Header, job.Files[0], first, "x", "y", Now).Should().BeNull();
        JobTransitions.ClaimFile(job.Header, job.Files[0], JobTransitions.RunOwner("43"), 4, Now).Should().BeNull("another run never takes a file in flight");
    }
}
