using System.Security.Cryptography;
using System.Text.Json;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Telemetry;
using Downloads.Jobs.Webhooks;
using Hangfire;
using Microsoft.Extensions.Logging;

namespace Downloads.Jobs;

/// <summary>What an initiate request led to.</summary>
public sealed record InitiateOutcome(Guid JobId, int TotalFiles, bool Replayed, bool IdempotencyConflict);

/// <summary>
/// What the API asks of the pipeline: initiate a job (create it and enqueue its run); cancel, pause and resume it.
/// Nothing here waits on a file.
/// </summary>
public sealed partial class DownloadJobCommands(
    JobLedger ledger,
    IJobStore store,
    InitiateGroupCommit groupCommit,
    BackgroundJobQueue backgroundJobs,
    WebhookTrigger webhooks,
    ILogger<DownloadJobCommands> logger,
    DownloadsMetrics? metrics = null)
{
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// Creates the job and enqueues its run, together with the initiates that arrive meanwhile (<see cref="InitiateGroupCommit"/>).
    /// With an <c>Idempotency-Key</c>, the key is bound first, atomically, so concurrent identical requests create one
    /// job; the same key with another body conflicts.
    /// </summary>
    public async Task<InitiateOutcome> InitiateAsync(
        IReadOnlyList<long> fileIds, string? callbackUrl, string publicBaseUrl, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var jobId = Guid.NewGuid();
        if (idempotencyKey is not null)
        {
            var wanted = new IdempotencyBinding(idempotencyKey, Fingerprint(fileIds, callbackUrl), jobId, fileIds.Count);
            var held = await store.BindIdempotencyKeyAsync(wanted, IdempotencyWindow, cancellationToken);
            if (held.JobId != jobId)
            {
                return new InitiateOutcome(held.JobId, held.TotalFiles, Replayed: true, IdempotencyConflict: held.Fingerprint != wanted.Fingerprint);
            }
        }

        try
        {
            // The job carries the initiating trace, so its runs continue it.
            var job = DownloadJob.Create(jobId, fileIds, callbackUrl, publicBaseUrl, ledger.Time.GetUtcNow());
            await groupCommit.CommitAsync(job with { Header = job.Header with { TraceParent = DownloadsTracing.CurrentTraceParent() } });
        }
        catch (Exception ex) when (idempotencyKey is not null)
        {
            // Nothing was acknowledged (the group commit forgot the job): let the client retry with the same key.
            await ReleaseKeyAsync(jobId, idempotencyKey, ex);
            throw;
        }

        metrics?.JobInitiated();
        return new InitiateOutcome(jobId, fileIds.Count, Replayed: false, IdempotencyConflict: false);
    }

    /// <summary>Cancels the job and starts its webhook; a repeated cancel starts it again if it was lost (the delivery job decides).</summary>
    public async Task<JobUpdate?> CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var update = await ledger.UpdateWholeAsync(jobId, (job, now) => JobTransitions.Cancel(job, now), cancellationToken);
        if (update is { Job.Status: Contracts.JobStatus.Cancelled })
        {
            // The cancel is committed: its webhook is enqueued even if the caller has gone away meanwhile.
            await webhooks.EnsureDeliveryAsync(update.Job, CancellationToken.None);
        }

        return update;
    }

    public Task<JobUpdate?> PauseAsync(Guid jobId, CancellationToken cancellationToken) =>
        ledger.UpdateAsync(jobId, (job, _) => JobTransitions.Pause(job), cancellationToken);

    public async Task<JobUpdate?> ResumeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var update = await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.Resume(job, now), cancellationToken);
        if (update is { Changed: true })
        {
            try
            {
                await EnqueueAsync(jobId);
            }
            catch (JobStoreUnavailableException)
            {
                // Nothing would run the resumed job: put it back to paused (best effort, the store may be down
                // too), so the client's 503 leaves it as it found it and a later resume works.
                await ledger.UpdateAsync(jobId, (job, _) => JobTransitions.Pause(job), CancellationToken.None);
                throw;
            }
        }

        return update;
    }

    // Hangfire's storage refused the job (Redis down): the caller answers 503, like any store outage.
    private async Task EnqueueAsync(Guid jobId)
    {
        try
        {
            await DownloadRun.EnqueueAsync(backgroundJobs, [jobId]);
        }
        catch (BackgroundJobClientException ex)
        {
            throw new JobStoreUnavailableException("The job queue is unavailable.", ex);
        }
    }

    // Best effort: with Redis down this fails too, and the failure that led here is the one to report.
    private async Task ReleaseKeyAsync(Guid jobId, string idempotencyKey, Exception cause)
    {
        try
        {
            await store.ReleaseIdempotencyKeyAsync(idempotencyKey, CancellationToken.None);
        }
        catch (JobStoreUnavailableException cleanup)
        {
            LogCleanupFailed(logger, cleanup, jobId, cause.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Idempotency-Key of job {JobId}, which could not be started ({Cause}), could not be released; it replays a missing job until it expires")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, Guid jobId, string cause);

    // The same key with the same body replays; the body is what the client asked for, in its order.
    private static string Fingerprint(IReadOnlyList<long> fileIds, string? callbackUrl)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(new { fileIds, callbackUrl }, DownloadsJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }
}
