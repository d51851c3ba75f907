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
/// The Hangfire jobs of a download job. None runs longer than one file's preparation: a dispatch starts
/// up to <see cref="ProcessingOptions.MaxParallelFilesPerJob"/> files, and each file's run starts the next
/// ones when it ends. Every step is safe to run twice: a file is claimed atomically by one run (its
/// Hangfire job id), an ended file is never prepared again, and duplicate runs find nothing to do.
/// </summary>
public sealed partial class DownloadJobRunner(
    JobLedger ledger,
    FilePreparer preparer,
    FileRetryPolicy retryPolicy,
    IFileLinks fileLinks,
    BackgroundJobQueue backgroundJobs,
    WebhookTrigger webhooks,
    IOptions<ProcessingOptions> processingOptions,
    IOptions<LinkOptions> linkOptions,
    ILogger<DownloadJobRunner> logger)
{
    public const string Queue = "downloads";

    // Hangfire's default first retry waits 15–45 s; after a short Redis outage a run should resume within seconds.
    private const int RetryAttempts = 10;

    // Hangfire's job cancellation check runs every half second (AddDownloadsWorker); this leaves ample margin.
    private static readonly TimeSpan DuplicateRunAbortWait = TimeSpan.FromSeconds(3);

    private readonly ProcessingOptions _processing = processingOptions.Value;

    /// <summary>Starts the job (queued → processing) and its first files; also after a resume.</summary>
    [DisplayName("Dispatch download job {0}")]
    [AutomaticRetry(Attempts = RetryAttempts, DelaysInSeconds = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600])]
    [Queue(Queue)]
    public async Task DispatchAsync(Guid jobId, CancellationToken cancellationToken)
    {
        using var scope = BeginJobScope(jobId, fileId: null, hangfireJobId: null);
        using var activity = DownloadsTracing.StartJobActivity("download.dispatch", await TraceParentAsync(jobId, cancellationToken), jobId);
        var update = await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.Start(job, now), cancellationToken);
        if (update is null)
        {
            LogJobGone(logger, jobId);
            return;
        }

        LogDispatched(logger, update.Job.Status, update.Job.Files.Length);
        await StartFilesAsync(update.Job);
    }

    /// <summary>Prepares one file, with retries, and records its link or its failure.</summary>
    [DisplayName("Prepare file {1} of download job {0}")]
    [AutomaticRetry(Attempts = RetryAttempts, DelaysInSeconds = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600])]
    [Queue(Queue)]
    public async Task PrepareFileAsync(Guid jobId, long fileId, PerformContext? context, CancellationToken cancellationToken)
    {
        var hangfireJobId = context?.BackgroundJob.Id ?? throw new InvalidOperationException("Runs under Hangfire only.");
        var owner = JobTransitions.RunOwner(hangfireJobId);
        using var scope = BeginJobScope(jobId, fileId, hangfireJobId);
        using var activity = DownloadsTracing.StartJobActivity("download.prepare_file", await TraceParentAsync(jobId, cancellationToken), jobId, fileId);
        var claim = await ledger.UpdateAsync(
            jobId, (job, now) => JobTransitions.ClaimFile(job, fileId, owner, _processing.MaxParallelFilesPerJob, now), cancellationToken);
        if (claim is null || !Owns(claim.Job, fileId, owner))
        {
            // Ended, cancelled, paused, at capacity, or another run has it: nothing to do here. But a re-run after a
            // crash may be the first to see the job ended since its commit: its webhook must still go out.
            if (claim is not null)
            {
                await webhooks.EnsureDeliveryAsync(claim.Job, cancellationToken);
            }

            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        JobUpdate? outcome;
        try
        {
            var prepared = await PrepareWithRetriesAsync(jobId, fileId, owner, stop, cancellationToken);
            outcome = await ledger.UpdateAsync(
                jobId,
                (job, now) => JobTransitions.CompleteFile(
                    job, fileId, owner, prepared.Size, prepared.Sha256, now, linkOptions.Value.Lifetime,
                    expiresAt => fileLinks.CreateUrl(job.PublicBaseUrl, fileId, expiresAt)),
                cancellationToken);
        }
        catch (FileNotFoundInStorageException)
        {
            outcome = await FailAsync(jobId, fileId, owner, "not_found", $"File {fileId} was not found in storage.", cancellationToken);
        }
        catch (StorageAccessException ex)
        {
            // Retrying would meet the same refusal: the file fails at once, and readiness shows the cause.
            LogStorageRefused(logger, ex, jobId, fileId, ex.ErrorCode);
            outcome = await FailAsync(jobId, fileId, owner, ex.ErrorCode, ex.Message, cancellationToken);
        }
        catch (TransientStorageException ex)
        {
            LogFileFailed(logger, ex, jobId, fileId);
            outcome = await FailAsync(jobId, fileId, owner, "storage_unavailable", ex.Message, cancellationToken);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The job was cancelled, or the file taken from this run: its state is already recorded.
            LogFileStopped(logger, jobId, fileId);
            if (await SurvivesAsDuplicateAsync(jobId, fileId, owner, cancellationToken))
            {
                // Hangfire kept this run and aborted the other: take the file back.
                await PrepareFileAsync(jobId, fileId, context, cancellationToken);
            }

            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Hangfire took the run away: a shutdown (it re-queues the job) or a Delete from the dashboard (it never
            // runs again). Either way the file goes back to pending and is started again, so no job is left waiting
            // on a run that will not come back; a re-queued run then finds it pending, or already taken, and is fine.
            if (await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.ReleaseFile(job, fileId, owner, now), CancellationToken.None) is { } released)
            {
                await StartFilesAsync(released.Job);
            }

            throw;
        }

        if (outcome is not null)
        {
            if (outcome.Job.IndexOf(fileId) is var index and >= 0 && outcome.Job.Files[index] is { } ended)
            {
                LogFileEnded(logger, fileId, ended.Status, ended.Attempts, ended.ErrorCode);
            }

            await StartFilesAsync(outcome.Job);
            await webhooks.EnsureDeliveryAsync(outcome.Job, cancellationToken);
        }
    }

    private async Task<PreparedFile> PrepareWithRetriesAsync(
        Guid jobId, long fileId, string owner, CancellationTokenSource stop, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(stop.Token);
        context.Properties.Set(FileRetryPolicy.OnRetryKey, async () =>
        {
            var retry = await ledger.UpdateAsync(jobId, (job, _) => JobTransitions.RetryFile(job, fileId, owner), cancellationToken);
            StopUnlessOwned(retry, fileId, owner, stop);
        });
        try
        {
            return await retryPolicy.Pipeline.ExecuteAsync(
                async ctx => await preparer.PrepareAsync(fileId, ReportProgressAsync, ctx.CancellationToken), context);
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
                var tick = await ledger.UpdateAsync(
                    jobId,
                    (job, now) => JobTransitions.TickFile(job, fileId, owner, fraction, now, TimeSpan.FromMilliseconds(_processing.ProgressIntervalMs)),
                    cancellationToken);
                StopUnlessOwned(tick, fileId, owner, stop);
            }
            catch (JobStoreUnavailableException ex)
            {
                LogTickSkipped(logger, ex, jobId, fileId);
            }
        }
    }

    // Hangfire sometimes delivers one job to two workers at once (seen on a shutdown hand-back), and the file's
    // claim may go to either run. Hangfire keeps one of them and aborts the other's token within its cancellation
    // check (half a second). A run that lost the claim waits for that: aborted, it ends without a state change;
    // still alive, it is the run Hangfire kept, and takes the file back. Ending normally instead would mark the
    // Hangfire job succeeded and get the run that holds the file aborted, leaving the file in flight for good.
    private async Task<bool> SurvivesAsDuplicateAsync(Guid jobId, long fileId, string owner, CancellationToken cancellationToken)
    {
        if (await ledger.GetAsync(jobId, CancellationToken.None) is not { } job
            || job.IndexOf(fileId) is not (>= 0 and var index)
            || job.Files[index] is not { Status: Contracts.FileStatus.Processing, Owner: { } holder }
            || holder == owner
            || !JobTransitions.SameHangfireJob(holder, owner))
        {
            return false;
        }

        LogDuplicateRun(logger, jobId, fileId);
        await Task.Delay(DuplicateRunAbortWait, ledger.Time, cancellationToken);
        return true;
    }

    // Every line a run writes carries the download job, the file and the Hangfire job: an operator can go from one to the other.
    private IDisposable? BeginJobScope(Guid jobId, long? fileId, string? hangfireJobId)
    {
        var properties = new Dictionary<string, object?> { ["JobId"] = jobId };
        if (fileId is not null)
        {
            properties["FileId"] = fileId;
        }

        if (hangfireJobId is not null)
        {
            properties["HangfireJobId"] = hangfireJobId;
        }

        return logger.BeginScope(properties);
    }

    // One read of the job for its stored traceparent, so the run is a child span of the initiate request. The span
    // itself is started by the caller: Activity.Current set inside an async method does not flow back out of it.
    private async Task<string?> TraceParentAsync(Guid jobId, CancellationToken cancellationToken) =>
        DownloadsTracing.Source.HasListeners() && await ledger.GetAsync(jobId, cancellationToken) is { } job ? job.TraceParent : null;

    private Task<JobUpdate?> FailAsync(Guid jobId, long fileId, string owner, string errorCode, string error, CancellationToken cancellationToken) =>
        ledger.UpdateAsync(jobId, (job, now) => JobTransitions.FailFile(job, fileId, owner, errorCode, error, now), cancellationToken);

    /// <summary>Enqueues a run for each file the job may start now. A duplicate run is harmless: the claim decides.</summary>
    private async Task StartFilesAsync(DownloadJob job)
    {
        foreach (var fileId in JobTransitions.FilesToStart(job, _processing.MaxParallelFilesPerJob))
        {
            await backgroundJobs.EnqueueAsync<DownloadJobRunner>(r => r.PrepareFileAsync(job.Id, fileId, null, CancellationToken.None));
        }
    }

    private static void StopUnlessOwned(JobUpdate? update, long fileId, string owner, CancellationTokenSource stop)
    {
        if (update is null || !Owns(update.Job, fileId, owner))
        {
            stop.Cancel();
        }
    }

    private static bool Owns(DownloadJob job, long fileId, string owner)
    {
        var index = job.IndexOf(fileId);
        return index >= 0 && job.Files[index] is { Status: Contracts.FileStatus.Processing } file && file.Owner == owner;
    }

    // JobId, FileId and HangfireJobId come from the run's scope.
    [LoggerMessage(Level = LogLevel.Information, Message = "Dispatched: job is {Status} with {TotalFiles} file(s)")]
    private static partial void LogDispatched(ILogger logger, Contracts.JobStatus status, int totalFiles);

    [LoggerMessage(Level = LogLevel.Information, Message = "File {FileId} ended {FileStatus} after {Attempts} attempt(s) {ErrorCode}")]
    private static partial void LogFileEnded(ILogger logger, long fileId, Contracts.FileStatus fileStatus, int attempts, string? errorCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download job {JobId} no longer exists; nothing to dispatch")]
    private static partial void LogJobGone(ILogger logger, Guid jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "File {FileId} of download job {JobId} failed at once: storage refused it ({ErrorCode})")]
    private static partial void LogStorageRefused(ILogger logger, Exception exception, Guid jobId, long fileId, string errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "File {FileId} of download job {JobId} failed after its retries")]
    private static partial void LogFileFailed(ILogger logger, Exception exception, Guid jobId, long fileId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hangfire runs file {FileId} of download job {JobId} twice; this run lost the claim and waits to be aborted or to take it back")]
    private static partial void LogDuplicateRun(ILogger logger, Guid jobId, long fileId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A progress tick of file {FileId} of download job {JobId} was skipped: the job store is unavailable")]
    private static partial void LogTickSkipped(ILogger logger, Exception exception, Guid jobId, long fileId);

    [LoggerMessage(Level = LogLevel.Information, Message = "File {FileId} of download job {JobId} stopped: the job was cancelled")]
    private static partial void LogFileStopped(ILogger logger, Guid jobId, long fileId);
}
