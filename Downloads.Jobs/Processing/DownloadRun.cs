using System.ComponentModel;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Recovery;
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
/// passed; then it hands over to a successor run. With nothing left, one run per process waits a little for new jobs
/// (<see cref="ProcessingOptions.IdleLinger"/>) and starts them without a Hangfire dispatch. So Hangfire's cost is paid once per slice of files, not per file,
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
    IRunLeases leases,
    IdleRunSlot idleSlot,
    IOptions<ProcessingOptions> processingOptions,
    IOptions<RecoveryOptions> recoveryOptions,
    IOptions<LinkOptions> linkOptions,
    ILogger<DownloadRun> logger)
{
    public const string Queue = "downloads";

    // Hangfire's default first retry waits 15–45 s; after a short Redis outage a run should resume within seconds.
    private const int RetryAttempts = 10;

    private readonly ProcessingOptions _processing = processingOptions.Value;
    private readonly RecoveryOptions _recovery = recoveryOptions.Value;
    private readonly IRunLeases _leases = leases;
    private readonly IdleRunSlot _idleSlot = idleSlot;

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

    /// <summary>The job as it stands, started first if it is still queued (queued → processing); null when it is gone.</summary>
    private async Task<JobHeader?> StartJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        // The span of the start continues the initiate request's trace, stored on the job: read only when someone listens.
        var traced = DownloadsTracing.Source.HasListeners() ? await ledger.GetHeaderAsync(jobId, cancellationToken) : null;
        using var activity = traced is { Status: Contracts.JobStatus.Queued }
            ? DownloadsTracing.StartJobActivity("download.dispatch", traced.TraceParent, jobId)
            : null;
        var update = await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.Start(job, now), cancellationToken);
        if (update is null)
        {
            LogJobGone(logger, jobId);
            return null;
        }

        if (update.Changed)
        {
            LogDispatched(logger, jobId, update.Job.Status, update.Job.Total);
        }

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

    private JobLedger Ledger => ledger;

    private ILogger Logger => logger;

    private Task<string> EnqueueSuccessorAsync(IReadOnlyCollection<Guid> jobIds) => EnqueueAsync(backgroundJobs, jobIds);

    private static void StopUnlessOwned(JobUpdate? update, string owner, CancellationTokenSource stop)
    {
        if (update?.File is not { } file || !JobTransitions.Owns(update.Job, file, owner))
        {
            stop.Cancel();
        }
    }

    /// <summary>
    /// One delivery of a run: the files it holds, the jobs it has seen, its lease, its time budget. It takes files
    /// from the ready ring, in the ring's fair order (round-robin across clients, then across each client's jobs), so
    /// any run serves any job and a client with one small job waits for one file, not for another client's thousands.
    /// Hangfire's delivery quirks are handled here and only here: a delivery whose token fires (a shutdown, a deleted
    /// or duplicate run) gives its files back and enqueues a successor; one that fails, or dies, leaves its files to
    /// its lease: when the lease lapses the <see cref="RecoverySweeper"/> gives them back, unless the retry of the
    /// same run took them back first.
    /// </summary>
    private sealed class RunSlice(DownloadRun run, IReadOnlyList<Guid> jobIds, string owner, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        private readonly Dictionary<Task<JobHeader?>, (Guid JobId, DownloadFile File)> _inFlight = [];

        // The jobs this delivery has seen, with the latest header of each, and those its lease lists.
        private readonly Dictionary<Guid, JobHeader> _jobs = [];
        private readonly HashSet<Guid> _leased = [];
        private bool _handedOver;

        private bool OverBudget => run.Now >= deadline;

        private int MaxParallel => run._processing.MaxParallelFilesPerJob;

        public async Task RunAsync()
        {
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopLease = new CancellationTokenSource();

            // The lease comes first: every job whose files this delivery may hold is listed in it before it holds any.
            await LeaseAsync(jobIds);
            var keepingLease = KeepLeaseAsync(abort, stopLease.Token);
            try
            {
                await ReadAsync(jobIds);
                await TakeFilesAsync(abort.Token);
                do
                {
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
                while (await IdleAsync(abort.Token));
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
            finally
            {
                await stopLease.CancelAsync();
                await keepingLease;
            }

            await run._leases.EndAsync(owner, CancellationToken.None);
        }

        // Fills the free slots, up to each job's parallelism and MaxFilesPerRun in all, while the budget lasts, with
        // the jobs the ready ring offers next. The jobs claim at once, each within its share of the free slots.
        private async Task TakeFilesAsync(CancellationToken token)
        {
            if (OverBudget)
            {
                await HandOverAsync();
                return;
            }

            var free = run._processing.MaxFilesPerRun - _inFlight.Count;
            if (free <= 0)
            {
                return;
            }

            // One turn per free slot: a job with no room now (at its parallelism) lets its turn go.
            var picks = await run.Ledger.NextReadyAsync(free, cancellationToken);
            if (picks.Where(id => !_leased.Contains(id)).ToList() is { Count: > 0 } newJobs)
            {
                // Only jobs new to this delivery cost a write; the renewal keeps the lease alive meanwhile.
                await LeaseAsync(newJobs);
            }

            // A header seen earlier that offers a file is only a hint (the claim decides on the stored job); one that
            // offers none may be stale (another run's files ended since), so that job is read again.
            await ReadAsync([.. picks.Where(id => !_jobs.TryGetValue(id, out var job) || Next(job) is null)]);
            var shares = new List<(Guid JobId, int Share)>();
            foreach (var jobId in picks)
            {
                if (free > 0 && _jobs.TryGetValue(jobId, out var job) && Next(job) is not null)
                {
                    var share = Math.Min(MaxParallel, free);
                    shares.Add((jobId, share));
                    free -= share;
                }
            }

            foreach (var (jobId, job) in await Task.WhenAll(shares.Select(s => ClaimAndStartAsync(s.JobId, s.Share, token))))
            {
                await KeepAsync(jobId, job);
            }
        }

        // Nothing in flight: unless another run of this process already waits, wait a little for jobs to join the ready
        // ring and take their files; true once files are in flight again, false when the wait is over, at the budget, or
        // when the delivery is cancelled meanwhile (it holds nothing then, so it just ends).
        private async Task<bool> IdleAsync(CancellationToken token)
        {
            var linger = run._processing.IdleLinger;
            if (linger <= TimeSpan.Zero || _handedOver || OverBudget || !run._idleSlot.TryTake())
            {
                return false;
            }

            try
            {
                var until = run.Now + linger < deadline ? run.Now + linger : deadline;
                while (run.Now < until)
                {
                    // Listening first, then looking: a job that joins in between still wakes this run.
                    if (await ListenForReadyAsync(token) is not { } joined)
                    {
                        break;
                    }

                    await TakeFilesAsync(token);
                    if (_inFlight.Count > 0)
                    {
                        return true;
                    }

                    if (!await WaitAsync(joined, until - run.Now, token))
                    {
                        break;
                    }
                }
            }
            finally
            {
                run._idleSlot.Release();
            }

            // The group commit enqueues no run for jobs it stores while this one waits: look once more, now that the
            // slot is free (a job stored from now on gets its own run).
            if (!token.IsCancellationRequested && await run.Ledger.AnyReadyAsync(token))
            {
                await TakeFilesAsync(token);
            }

            return _inFlight.Count > 0;
        }

        // Null when the store cannot tell (Redis down): then this run does not wait, the ring and the sweeper go on.
        private async Task<Task?> ListenForReadyAsync(CancellationToken token)
        {
            try
            {
                return await run.Ledger.ListenForReadyAsync(token);
            }
            catch (JobStoreUnavailableException ex)
            {
                LogIdleWaitSkipped(run.Logger, ex, owner);
                return null;
            }
        }

        // False when the wait ran out or the delivery was cancelled meanwhile (it holds no file then).
        private async Task<bool> WaitAsync(Task joined, TimeSpan timeout, CancellationToken token)
        {
            try
            {
                await joined.WaitAsync(timeout, run.Ledger.Time, token);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return false;
            }
        }

        private int? Next(JobHeader job) => JobTransitions.HeldByEarlierDelivery(job, owner) ?? JobTransitions.NextFile(job, MaxParallel);

        // Reads the jobs as they stand, starting those still queued (queued → processing).
        private async Task ReadAsync(IReadOnlyList<Guid> ids)
        {
            var read = await Task.WhenAll(ids.Select(id => run.StartJobAsync(id, cancellationToken)));
            for (var i = 0; i < ids.Count; i++)
            {
                await KeepAsync(ids[i], read[i]);
            }
        }

        // The latest header of a job; a job that no longer exists (expired, forgotten) leaves the ready ring.
        private async Task KeepAsync(Guid jobId, JobHeader? job)
        {
            if (job is not null)
            {
                _jobs[jobId] = job;
                return;
            }

            _jobs.Remove(jobId);
            await run.Ledger.DropReadyAsync(jobId, cancellationToken);
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
            if (await run.Ledger.AnyReadyAsync(cancellationToken))
            {
                await run.EnqueueSuccessorAsync([.. _jobs.Where(j => JobTransitions.HasFilesToStart(j.Value)).Select(j => j.Key)]);
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
            await run._leases.EndAsync(owner, CancellationToken.None);
        }

        // Lists jobs in the lease (and extends it) before any of their files is claimed.
        private async Task LeaseAsync(IReadOnlyCollection<Guid> newJobs)
        {
            await run._leases.RenewAsync(owner, newJobs, run.Now + run._recovery.LeaseDuration, CancellationToken.None);
            _leased.UnionWith(newJobs);
        }

        // Renews the lease while the delivery works. A lease that could not be renewed for nearly its whole duration is
        // about to lapse and its files to go to another run: this delivery stops preparing them (it then fails, and
        // Hangfire's retry or the sweeper carries on), so no file is prepared twice at once.
        private async Task KeepLeaseAsync(CancellationTokenSource abort, CancellationToken stop)
        {
            var recovery = run._recovery;
            var renewed = run.Now;
            using var timer = new PeriodicTimer(recovery.RenewInterval, run.Ledger.Time);
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    try
                    {
                        await LeaseAsync([]);
                        renewed = run.Now;
                    }
                    catch (JobStoreUnavailableException ex) when (run.Now - renewed < recovery.LeaseDuration - recovery.RenewInterval)
                    {
                        LogLeaseNotRenewed(run.Logger, ex, owner);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The delivery ended.
            }
            catch (JobStoreUnavailableException ex)
            {
                LogLeaseLost(run.Logger, ex, owner);
                await abort.CancelAsync();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {Owner} does not wait for new jobs: the job store is unavailable")]
    private static partial void LogIdleWaitSkipped(ILogger logger, Exception exception, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {Owner} could not renew its lease; it tries again")]
    private static partial void LogLeaseNotRenewed(ILogger logger, Exception exception, string owner);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {Owner} lost its lease: it stops preparing its files, which go to another run")]
    private static partial void LogLeaseLost(ILogger logger, Exception exception, string owner);

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
