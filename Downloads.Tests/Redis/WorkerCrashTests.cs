using System.Collections.Concurrent;
using System.Diagnostics;
using Downloads.Contracts;
using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Redis;

/// <summary>
/// A worker process that dies (SIGKILL) mid-job, with default settings: its run's lease lapses, the sweeper gives its
/// files back, and another worker finishes the job within 30 s of the kill plus the remaining work, without waiting
/// for Hangfire's invisibility timeout (300 s). Files completed before keep their single attempt and their hash.
/// </summary>
public sealed class WorkerCrashTests
{
    // Issue 12's bound: a job a person watches must not freeze for minutes.
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_job_whose_worker_is_killed_finishes_on_another_worker_within_30_s_plus_its_remaining_work()
    {
        await using var deployment = Deployment(await RedisServer.Shared);
        var api = new DownloadsApi(deployment.Node("api").CreateApiClient());
        var doomed = deployment.Process("worker");

        var job = await api.InitiateAsync(EightExistingFiles);
        var before = await api.WaitForAsync(job.JobId, s => s.Progress.Completed >= 2 && s.Progress.CurrentFile is not null);
        await doomed.KillAsync();
        var sinceKill = Stopwatch.StartNew();
        var opened = new ConcurrentDictionary<long, int>();
        deployment.Node("worker", app => app.WithServices(services =>
            services.AddSingleton<IFileStorage>(new CountingFileStorage(new SyntheticFileStorage(), opened))));

        var remainingWork = RemainingWork(before);
        var ended = await api.WaitForEndAsync(job.JobId, RecoveryBound + remainingWork + TimeSpan.FromSeconds(30));

        sinceKill.Elapsed.Should().BeLessThan(RecoveryBound + remainingWork, doomed.Output);
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed);
        var completedBefore = before.Results.Where(r => r.Status == FileStatus.Completed).ToList();
        ended.Results.Where(r => completedBefore.Any(b => b.FileId == r.FileId))
            .Select(r => (r.FileId, r.Attempts, r.Sha256))
            .Should().Equal(completedBefore.Select(r => (r.FileId, 1, r.Sha256)), "a file completed before the crash is not redone");
        opened.Keys.Should().NotIntersectWith(completedBefore.Select(r => r.FileId));
        opened.Values.Should().OnlyContain(count => count == 1, "the survivor prepares each file it takes once");
    }

    internal static readonly long[] EightExistingFiles = [.. Enumerable.Range(0, 8).Select(i => 70000L + (7 * i))];

    // The files not completed before the kill, at the slowest preparation time, MaxParallelFilesPerJob at a time.
    private static TimeSpan RemainingWork(JobStatusDocument before) =>
        TimeSpan.FromMilliseconds(900) * Math.Ceiling((before.Progress.Total - before.Progress.Completed) / 2.0);

    // Default recovery and Hangfire settings: only short files and a small parallelism, so the job outlives the kill.
    internal static RedisDeployment Deployment(RedisServer redis) => new RedisDeployment(redis)
        .With("Downloads:Processing:DelayMinMs", "600")
        .With("Downloads:Processing:DelayMaxMs", "900")
        .With("Downloads:Processing:ProgressIntervalMs", "100")
        .With("Downloads:Processing:MaxParallelFilesPerJob", "2");
}

/// <summary>A worker process stopped with SIGTERM mid-job hands its file runs back to the queue at once (a class of its own so it runs beside the slow crash test).</summary>
public sealed class WorkerShutdownTests
{
    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_hands_its_files_back_at_once()
    {
        // Leases of five minutes and the default invisibility timeout: only a graceful hand-back explains a quick finish.
        await using var deployment = WorkerCrashTests.Deployment(await RedisServer.Shared).With("Downloads:Recovery:LeaseDuration", "00:05:00");
        var api = new DownloadsApi(deployment.Node("api").CreateApiClient());
        var stopping = deployment.Process("worker");

        var job = await api.InitiateAsync(WorkerCrashTests.EightExistingFiles);
        var before = await api.WaitForAsync(job.JobId, s => s.Progress.Completed >= 1 && s.Progress.CurrentFile is not null);
        var sinceStop = Stopwatch.StartNew();
        await stopping.TerminateAsync();
        var shutdown = sinceStop.Elapsed;
        var opened = new ConcurrentDictionary<long, int>();
        deployment.Node("worker", app => app.WithServices(services =>
            services.AddSingleton<IFileStorage>(new CountingFileStorage(new SyntheticFileStorage(), opened))));

        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        shutdown.Should().BeLessThan(TimeSpan.FromSeconds(15), "the file runs stop at the shutdown token instead of running out the shutdown timeout");
        ended.Status.Should().Be(JobStatus.Completed, stopping.Output);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed);
        var completedBefore = before.Results.Where(r => r.Status == FileStatus.Completed).Select(r => r.FileId).ToHashSet();
        ended.Results.Where(r => completedBefore.Contains(r.FileId)).Should().OnlyContain(r => r.Attempts == 1);
        opened.Keys.Should().NotIntersectWith(completedBefore);
        opened.Values.Should().OnlyContain(count => count == 1, "a handed-back file is prepared once, even when Hangfire delivers its run twice");
    }
}
