using System.ComponentModel;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Telemetry;
using Downloads.Jobs.Webhooks;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Downloads.Jobs.Processing;

/// <summary>
/// A run: one Hangfire job that prepares files of one or more download jobs. It starts its jobs, keeps up to
/// <see cref="ProcessingOptions.MaxParallelFilesPerJob"/> files of each in flight, taking the next pending file
/// whenever one ends, until its jobs have nothing left to start or <see cref="ProcessingOptions.RunBudget"/> has
/// passed; then it hands over to a successor run. So Hangfire's cost is paid once per slice of files, not per file,
/// and no run lives anywhere near Hangfire's invisibility timeout. Every step is safe to run twice: each file is
/// claimed atomically, an ended file is never prepared again, and a duplicate run finds nothing to do.
/// </summary>
public sealed partial class DownloadRun(
    JobLedger ledger,
    FilePreparer preparer,
    FileRetryPolicy retryPolicy,
    IFileLinks fileLinks,
    BackgroundJobQueue backgroundJobs,
    WebhookTrigger webhooks,
    IOptions<ProcessingOptions> processingOptions,
    IOptions<LinkOptions> linkOptions,
    ILogger<DownloadRun> logger)
{
    public const string Queue = "downloads";

    // Hangfire's default first retry waits 15–45 s; after a short Redis outage a run should resume within seconds.
    private const int RetryAttempts = 10;

    private readonly ProcessingOptions _processing = processingOptions.Value;

    /// <summary>Enqueues a run of <paramref name="jobIds"/>; fails like Hangfire's client does when its storage is down.</summary>
    public static Task<string> EnqueueAsync(BackgroundJobQueue queue, IReadOnlyCollection<Guid> jobIds)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Guid[] ids = [.. jobIds];
        return queue.EnqueueAsync<DownloadRun>(r => r.RunAsync(ids, null, CancellationToken.None));
    }

    /// <summary>Prepares files of <paramref name="jobIds"/> for one slice of time, then hands over.</summary>
    [RunDisplayName]
    [AutomaticRetry(Attempts = RetryAttempts, DelaysInSeconds = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600])]
    [Queue(Queue)]
    public async Task RunAsync(Guid[] jobIds, PerformContext? context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        var runId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("Runs under Hangfire only.");
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["RunId"] = runId });
        var slice = new RunSlice(this, [.. jobIds.Distinct()], JobTransitions.RunOwner(runId), ledger.Time.GetUtcNow() + _processing.RunBudget, cancellationToken);
        await slice.RunAsync();
    }

    /// <summary>Starts the job (queued → processing); whether it has files for this run.</summary>
    private async Task<JobHeader?> StartJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        // The span continues the initiate request's trace, stored on the job: read only when someone listens.
        var traceParent = DownloadsTracing.Source.HasListeners() ? (await ledger.GetHeaderAsync(jobId, cancellationToken))?.TraceParent : null;
        using var activity = DownloadsTracing.StartJobActivity("download.dispatch", traceParent, jobId);
        var update = await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.Start(job, now), cancellationToken);
        if (update is null)
        {
            LogJobGone(logger, jobId);
            return null;
        }

        LogDispatched(logger, jobId, update.Job.Status, update.Job.Total);

        // A re-run after a crash may be the first to see the job ended since its commit: its webhook must still go out.
        await webhooks.EnsureDeliveryAsync(update.Job, cancellationToken);
        return update.Job;
    }

    /// <summary>
    /// Claims the next file of the job for <paramref name="owner"/>: one an earlier delivery of this run held, else the
    /// next pending one. <c>null</c> when none may start now. <paramref name="hint"/> is the latest header seen; the
    /// claim itself decides on the stored one.
    /// </summary>
    private async Task<(DownloadFile? File, JobHeader? Job)> ClaimAsync(Guid jobId, JobHeader? hint, string owner, CancellationToken cancellationToken)
    {
        var job = hint ?? await ledger.GetHeaderAsync(jobId, cancellationToken);
        while (job is not null
            && (JobTransitions.HeldByEarlierDelivery(job, owner) ?? JobTransitions.NextFile(job, _processing.MaxParallelFilesPerJob)) is { } index)
        {
            var claim = await ledger.UpdateFileAsync(
                jobId, index, (header, file, now) => JobTransitions.ClaimFile(header, file, owner, _processing.MaxParallelFilesPerJob, now), cancellationToken);
            if (claim is { Changed: true, File: { } claimed })
            {
                return (claimed, claim.Job);
            }

            // Another run took it first: look again at the job as it now stands.
            job = claim?.Job;
        }

        return (null, job);
    }

    /// <summary>Prepares one claimed file, with retries, and records its link or its failure; the job as it then stands.</summary>
    private async Task<JobHeader?> PrepareFileAsync(JobHeader job, DownloadFile file, string owner, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["JobId"] = job.Id, ["FileId"] = file.FileId });
        using var activity = DownloadsTracing.StartJobActivity("download.prepare_file", job.TraceParent, job.Id, file.FileId);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        JobUpdate? outcome;
        try
        {
            var prepared = await PrepareWithRetriesAsync(job.Id, file, owner, stop, cancellationToken);
            outcome = await ledger.UpdateFileAsync(
                job.Id,
                file.Index,
                (header, current, now) => JobTransitions.CompleteFile(
                    header, current, owner, prepared.Size, prepared.Sha256, now, linkOptions.Value.Lifetime,
                    expiresAt => fileLinks.CreateUrl(header.PublicBaseUrl, current.FileId, expiresAt)),
                cancellationToken);
        }
        catch (FileNotFoundInStorageException)
        {
            outcome = await FailAsync(job.Id, file, owner, "not_found", $"File {file.FileId} was not found in storage.", cancellationToken);
        }
        catch (StorageAccessException ex)
        {
            // Retrying would meet the same refusal: the file fails at once, and readiness shows the cause.
            LogStorageRefused(logger, ex, job.Id, file.FileId, ex.ErrorCode);
            outcome = await FailAsync(job.Id, file, owner, ex.ErrorCode, ex.Message, cancellationToken);
        }
        catch (TransientStorageException ex)
        {
            LogFileFailed(logger, ex, job.Id, file.FileId);
            outcome = await FailAsync(job.Id, file, owner, "storage_unavailable", ex.Message, cancellationToken);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The job was cancelled, or the file taken by another delivery of this run: its state is already recorded.
            LogFileStopped(logger, job.Id, file.FileId);
            return null;
        }

        if (outcome is { Changed: true, File: { } ended })
        {
            LogFileEnded(logger, file.FileId, ended.Status, ended.Attempts, ended.ErrorCode);
            await webhooks.EnsureDeliveryAsync(outcome.Job, cancellationToken);
        }

        return outcome?.Job;
    }

    private async Task<PreparedFile> PrepareWithRetriesAsync(
        Guid jobId, DownloadFile file, string owner, CancellationTokenSource stop, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(stop.Token);
        context.Properties.Set(FileRetryPolicy.OnRetryKey, async () => StopUnlessOwned(
            await ledger.UpdateFileAsync(jobId, file.Index, (job, current, _) => JobTransitions.RetryFile(job, current, owner), cancellationToken),
            owner,
            stop));
        try
        {
            return await retryPolicy.Pipeline.ExecuteAsync(
                async ctx => await preparer.PrepareAsync(file.FileId, ReportProgressAsync, ctx.CancellationToken), context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        // A tick also tells the run whether the file is still its own: a cancel stops it within one tick.
        // A tick the store cannot take (a short Redis outage) is skipped: it is not a recorded change, and the
        // file's outcome, which is, is committed (or retried by Hangfire) at the end.
        async Task ReportProgressAsync(double fraction)
        {
            try
            {
                var tick = await ledger.UpdateFileAsync(
                    jobId,
                    file.Index,
                    (job, current, now) => JobTransitions.TickFile(job, current, owner, fraction, now, _processing.ProgressInterval),
                    cancellationToken);
                StopUnlessOwned(tick, owner, stop);
            }
            catch (JobStoreUnavailableException ex)
            {
                LogTickSkipped(logger, ex, jobId, file.FileId);
            }
        }
    }

    /// <summary>Gives a file back to pending when the run is taken away, so the next run starts it again.</summary>
    private Task<JobUpdate?> ReleaseAsync(Guid jobId, DownloadFile file, string owner) =>
        ledger.UpdateFileAsync(jobId, file.Index, (job, current, now) => JobTransitions.ReleaseFile(job, current, owner, now), CancellationToken.None);

    private Task<JobUpdate?> FailAsync(Guid jobId, DownloadFile file, string owner, string errorCode, string error, CancellationToken cancellationToken) =>
        ledger.UpdateFileAsync(jobId, file.Index, (job, current, now) => JobTransitions.FailFile(job, current, owner, errorCode, error, now), cancellationToken);

    private DateTimeOffset Now => ledger.Time.GetUtcNow();

    private Task<string> EnqueueSuccessorAsync(IReadOnlyCollection<Guid> jobIds) => EnqueueAsync(backgroundJobs, jobIds);

    private static void StopUnlessOwned(JobUpdate? update, string owner, CancellationTokenSource stop)
    {
        if (update?.File is not { } file || !JobTransitions.Owns(update.Job, file, owner))
        {
            stop.Cancel();
        }
    }

    /// <summary>
    /// One delivery of a run: the files it holds, the jobs it serves, its time budget. Hangfire's delivery quirks are
    /// handled here and only here: a delivery whose token fires (a shutdown, a deleted or duplicate run) gives its
    /// files back and enqueues a successor; one that fails leaves its files to the retry of the same run, which takes
    /// them back.
    /// </summary>
    private sealed class RunSlice(DownloadRun run, IReadOnlyList<Guid> jobIds, string owner, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        private readonly Dictionary<Task<JobHeader?>, (Guid JobId, DownloadFile File)> _inFlight = [];

        // The jobs this delivery serves, with the latest header seen of each: where to look for the next file.
        private readonly Dictionary<Guid, JobHeader> _jobs = [];
        private bool _handedOver;

        private bool OverBudget => run.Now >= deadline;

        public async Task RunAsync()
        {
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                var started = await Task.WhenAll(jobIds.Select(jobId => run.StartJobAsync(jobId, cancellationToken)));
                foreach (var job in started.OfType<JobHeader>())
                {
                    _jobs[job.Id] = job;
                }

                await TakeFilesAsync(abort.Token);
                while (_inFlight.Count > 0)
                {
                    var done = await Task.WhenAny(_inFlight.Keys);

                    // Awaited while still listed: a file whose preparation was taken away is given back below.
                    var job = await done;
                    _inFlight.Remove(done, out var held);
                    Remember(held.JobId, job);
                    await TakeFilesAsync(abort.Token);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Stop the other files of this delivery and wait for them, so none runs on unobserved.
                await abort.CancelAsync();
                await Task.WhenAll(_inFlight.Keys).ContinueWith(_ => { }, TaskScheduler.Default);
                if (cancellationToken.IsCancellationRequested)
                {
                    await GiveBackAsync();
                }

                throw;
            }
        }

        // Fills the free slots: up to the job's parallelism per job, up to MaxFilesPerRun in all, while the budget
        // lasts. The jobs claim at once, each within its share of the free slots.
        private async Task TakeFilesAsync(CancellationToken token)
        {
            if (OverBudget)
            {
                await HandOverAsync();
                return;
            }

            var free = run._processing.MaxFilesPerRun - _inFlight.Count;
            var shares = new List<(Guid JobId, int Share)>();
            foreach (var (jobId, job) in _jobs)
            {
                // The latest header seen says whether there is anything to take: no round trip for a job that is full or done.
                if (free > 0 && (JobTransitions.HeldByEarlierDelivery(job, owner) ?? JobTransitions.NextFile(job, run._processing.MaxParallelFilesPerJob)) is not null)
                {
                    var share = Math.Min(free, run._processing.MaxParallelFilesPerJob);
                    shares.Add((jobId, share));
                    free -= share;
                }
            }

            foreach (var (jobId, job) in await Task.WhenAll(shares.Select(s => ClaimAndStartAsync(s.JobId, s.Share, token))))
            {
                if (job is null)
                {
                    _jobs.Remove(jobId);
                }
                else
                {
                    _jobs[jobId] = job;
                }
            }
        }

        // Claims up to `share` files of one job and starts preparing each as soon as it is claimed; the latest header.
        private async Task<(Guid JobId, JobHeader? Job)> ClaimAndStartAsync(Guid jobId, int share, CancellationToken token)
        {
            // Claims continue the job's trace too: their events are part of it.
            JobHeader? job = _jobs[jobId];
            using var activity = DownloadsTracing.StartJobActivity("download.claim", job.TraceParent, jobId);
            for (var claimed = 0; claimed < share && job is not null; claimed++)
            {
                (var file, job) = await run.ClaimAsync(jobId, job, owner, cancellationToken);
                if (file is null || job is null)
                {
                    break;
                }

                // Listed at once, so that a failure of another job's claim still finds it to wait for and give back.
                var preparation = run.PrepareFileAsync(job, file, owner, token);
                lock (_inFlight)
                {
                    _inFlight[preparation] = (jobId, file);
                }
            }

            return (jobId, job);
        }

        // Files of one job end in any order: keep the most recent header.
        private void Remember(Guid jobId, JobHeader? job)
        {
            if (job is not null && _jobs.TryGetValue(jobId, out var known) && job.Seq > known.Seq)
            {
                _jobs[jobId] = job;
            }
        }

        // The budget has passed: a successor takes the files not yet started while this delivery ends the ones it holds.
        private async Task HandOverAsync()
        {
            if (_handedOver)
            {
                return;
            }

            _handedOver = true;
            var unfinished = _jobs.Where(j => JobTransitions.HasFilesToStart(j.Value)).Select(j => j.Key).ToList();
            if (unfinished.Count > 0)
            {
                await run.EnqueueSuccessorAsync(unfinished);
            }
        }

        // Hangfire took the run away: a shutdown (it re-queues the run) or a Delete from the dashboard (it never runs
        // again). Either way the files go back to pending and a successor starts them, so no job waits on a run that
        // will not come back; a re-queued run then finds them taken, or takes them, and is fine.
        private async Task GiveBackAsync()
        {
            foreach (var (jobId, file) in _inFlight.Values)
            {
                await run.ReleaseAsync(jobId, file, owner);
            }

            await run.EnqueueSuccessorAsync(jobIds);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dispatched download job {JobId}: it is {Status} with {TotalFiles} file(s)")]
    private static partial void LogDispatched(ILogger logger, Guid jobId, Contracts.JobStatus status, int totalFiles);

    [LoggerMessage(Level = LogLevel.Information, Message = "File {FileId} ended {FileStatus} after {Attempts} attempt(s) {ErrorCode}")]
    private static partial void LogFileEnded(ILogger logger, long fileId, Contracts.FileStatus fileStatus, int attempts, string? errorCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download job {JobId} no longer exists; nothing to run")]
    private static partial void LogJobGone(ILogger logger, Guid jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "File {FileId} of download job {JobId} failed at once: storage refused it ({ErrorCode})")]
    private static partial void LogStorageRefused(ILogger logger, Exception exception, Guid jobId, long fileId, string errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "File {FileId} of download job {JobId} failed after its retries")]
    private static partial void LogFileFailed(ILogger logger, Exception exception, Guid jobId, long fileId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A progress tick of file {FileId} of download job {JobId} was skipped: the job store is unavailable")]
    private static partial void LogTickSkipped(ILogger logger, Exception exception, Guid jobId, long fileId);

    [LoggerMessage(Level = LogLevel.Information, Message = "File {FileId} of download job {JobId} stopped: the job was cancelled or the file taken by another delivery of this run")]
    private static partial void LogFileStopped(ILogger logger, Guid jobId, long fileId);
}
