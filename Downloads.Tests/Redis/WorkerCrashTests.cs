using System.Collections.Concurrent;
using System.Diagnostics;
using Downloads.Contracts;
using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Redis;

/// <summary>
/// A worker process that dies (SIGKILL) mid-job: another worker finishes the job within the invisibility timeout
/// plus Hangfire's check interval, and files completed before keep their single attempt and their hash.
/// </summary>
public sealed class WorkerCrashTests
{
    // Hangfire's Redis storage looks for jobs of dead workers at a server's start and every minute after.
    private static readonly TimeSpan HangfireCheckInterval = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_job_whose_worker_is_killed_finishes_on_another_worker()
    {
        const int invisibilitySeconds = 10;
        await using var deployment = Deployment(await RedisServer.Shared, invisibilitySeconds);
        var api = new DownloadsApi(deployment.Node("api").CreateApiClient());
        var doomed = deployment.Process("worker");

        var job = await api.InitiateAsync(EightExistingFiles);
        var before = await api.WaitForAsync(job.JobId, s => s.Progress.Completed >= 2 && s.Progress.CurrentFile is not null);
        await doomed.KillAsync();
        var sinceKill = Stopwatch.StartNew();
        deployment.Node("worker");

        var bound = TimeSpan.FromSeconds(invisibilitySeconds) + HangfireCheckInterval + TimeSpan.FromSeconds(20);
        var ended = await api.WaitForEndAsync(job.JobId, bound);

        sinceKill.Elapsed.Should().BeLessThan(bound);
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed);
        var completedBefore = before.Results.Where(r => r.Status == FileStatus.Completed).ToList();
        ended.Results.Where(r => completedBefore.Any(b => b.FileId == r.FileId))
            .Select(r => (r.FileId, r.Attempts, r.Sha256))
            .Should().Equal(completedBefore.Select(r => (r.FileId, 1, r.Sha256)), "a file completed before the crash is not redone");
    }

    internal static readonly long[] EightExistingFiles = [.. Enumerable.Range(0, 8).Select(i => 70000L + (7 * i))];

    internal static RedisDeployment Deployment(RedisServer redis, int invisibilitySeconds) => new RedisDeployment(redis)
        .With("Downloads:Redis:InvisibilityTimeoutSeconds", invisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
        // Each file run (one Hangfire job) stays well inside the invisibility timeout.
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
        // The default invisibility timeout: only a graceful hand-back can explain a quick finish.
        await using var deployment = WorkerCrashTests.Deployment(await RedisServer.Shared, invisibilitySeconds: 300);
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
