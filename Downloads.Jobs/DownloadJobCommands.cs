using System.Security.Cryptography;
using System.Text.Json;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Retries;
using Downloads.Jobs.Telemetry;
using Downloads.Jobs.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs;

/// <summary>What an initiate request led to.</summary>
public sealed record InitiateOutcome(Guid JobId, int TotalFiles, bool Replayed, bool IdempotencyConflict);

/// <summary>What a retry request led to: the plan, and the new job when the plan was not refused.</summary>
public sealed record RetryOutcome(RetryPlan Plan, InitiateOutcome? Started);

/// <summary>
/// What the API asks of the pipeline: initiate a job (store it; its run is enqueued right after); cancel, pause and
/// resume it. Nothing here waits on a file.
/// </summary>
public sealed partial class DownloadJobCommands(
    JobLedger ledger,
    IJobStore store,
    InitiateGroupCommit groupCommit,
    WebhookTrigger webhooks,
    IOptions<RetentionOptions> retention,
    ILogger<DownloadJobCommands> logger,
    DownloadsMetrics? metrics = null)
{
    /// <summary>
    /// Creates the job, owned by <paramref name="apiKeyName"/> (null in open mode) and scheduled fairly among the jobs
    /// of other clients as <paramref name="client"/>'s (see <see cref="JobHeader.Client"/>), together with the initiates that
    /// arrive meanwhile (<see cref="InitiateGroupCommit"/>): it returns once the job is stored, which guarantees it a run
    /// (enqueued right after, off the request path, or by the recovery sweeper). With an <c>Idempotency-Key</c>, the key
    /// is bound first, atomically, so concurrent identical requests create one job; the same key with another body
    /// conflicts. Keys are scoped per API key: two clients never share one. A store that is full refuses the job
    /// (<see cref="JobStoreFullException"/>) after a replay was answered.
    /// </summary>
    public async Task<InitiateOutcome> InitiateAsync(
        IReadOnlyList<long> fileIds,
        string? callbackUrl,
        string publicBaseUrl,
        string? idempotencyKey,
        string? apiKeyName,
        string client,
        CancellationToken cancellationToken)
    {
        var jobId = NewJobId();
        idempotencyKey = ScopedIdempotencyKey(apiKeyName, idempotencyKey);
        if (idempotencyKey is not null)
        {
            var wanted = new IdempotencyBinding(idempotencyKey, Fingerprint(fileIds, callbackUrl), jobId, fileIds.Count);
            var held = await store.BindIdempotencyKeyAsync(wanted, retention.Value.IdempotencyKeyLifetime, cancellationToken);
            if (held.JobId != jobId)
            {
                return new InitiateOutcome(held.JobId, held.TotalFiles, Replayed: true, IdempotencyConflict: held.Fingerprint != wanted.Fingerprint);
            }
        }

        try
        {
            store.EnsureRoomFor(fileIds.Count);
            await groupCommit.CommitAsync(NewJob(jobId, fileIds, callbackUrl, publicBaseUrl, apiKeyName, client, retryOf: null));
        }
        catch (Exception ex) when (idempotencyKey is not null)
        {
            // Nothing was acknowledged (the store was full, or its write failed and the group commit forgot the job): let the client retry with the same key.
            await ReleaseKeyAsync(jobId, idempotencyKey, ex);
            throw;
        }

        metrics?.JobInitiated();
        return new InitiateOutcome(jobId, fileIds.Count, Replayed: false, IdempotencyConflict: false);
    }

    /// <summary>
    /// A new job of the failed files of an ended job (all, or those listed), with its <c>callback_url</c>, stored like an
    /// initiate's (returns once it is stored); the ended job is left as it is. <c>null</c> when there is no such job; a refused plan when the job does not allow it.
    /// </summary>
    public async Task<RetryOutcome?> RetryAsync(
        Guid jobId, IReadOnlyList<long>? fileIds, string publicBaseUrl, string client, CancellationToken cancellationToken)
    {
        if (await ledger.GetAsync(jobId, cancellationToken) is not { } ended)
        {
            return null;
        }

        var plan = RetryPlan.For(ended, fileIds);
        if (plan.Refusal is not null)
        {
            return new RetryOutcome(plan, null);
        }

        store.EnsureRoomFor(plan.FileIds.Count);
        var retry = NewJob(NewJobId(), plan.FileIds, ended.CallbackUrl, publicBaseUrl, ended.Header.ApiKeyName, client, ended.Id);
        await groupCommit.CommitAsync(retry);
        metrics?.JobInitiated();
        return new RetryOutcome(plan, new InitiateOutcome(retry.Id, plan.FileIds.Count, Replayed: false, IdempotencyConflict: false));
    }

    // The job carries the initiating trace, so its runs continue it, the key that owns it and the client it is scheduled for.
    private DownloadJob NewJob(
        Guid jobId, IReadOnlyList<long> fileIds, string? callbackUrl, string publicBaseUrl, string? apiKeyName, string client, Guid? retryOf)
    {
        var job = DownloadJob.Create(jobId, fileIds, callbackUrl, publicBaseUrl, ledger.Time.GetUtcNow());
        return job with
        {
            Header = job.Header with
            {
                TraceParent = DownloadsTracing.CurrentTraceParent(),
                ApiKeyName = apiKeyName,
                Client = client,
                RetryOf = retryOf,
            },
        };
    }

    /// <summary>
    /// Cancels the job and starts its webhook. Only the cancel that changed the job enqueues anything: a repeated
    /// DELETE is answered from the state and costs no run (a delivery lost after the commit is started again by the
    /// next run that finds the job ended).
    /// </summary>
    public async Task<JobUpdate?> CancelAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var update = await ledger.UpdateWholeAsync(jobId, (job, now) => JobTransitions.Cancel(job, now), cancellationToken);
        if (update is { Changed: true, Job.Status: Contracts.JobStatus.Cancelled })
        {
            // The cancel is committed: its webhook is enqueued even if the caller has gone away meanwhile.
            await webhooks.EnsureDeliveryAsync(update.Job, CancellationToken.None);
        }

        return update;
    }

    public Task<JobUpdate?> PauseAsync(Guid jobId, CancellationToken cancellationToken) =>
        ledger.UpdateAsync(jobId, (job, _) => JobTransitions.Pause(job), cancellationToken);

    /// <summary>
    /// Resumes the job: the same commit puts it back in the ready ring, where a run takes it, so the answer does not wait
    /// for Hangfire; its run is enqueued after, like an initiate's (<see cref="InitiateGroupCommit.Dispatch"/>).
    /// </summary>
    public async Task<JobUpdate?> ResumeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var update = await ledger.UpdateAsync(jobId, (job, now) => JobTransitions.Resume(job, now), cancellationToken);
        if (update is { Changed: true })
        {
            groupCommit.Dispatch(jobId);
        }

        return update;
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

    /// <summary>
    /// A job id from a cryptographic source: 122 random bits in a version 4 UUID. An id is no credential where API
    /// keys are configured, but it must not be guessable either.
    /// </summary>
    public static Guid NewJobId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    // Open mode keeps the key as given; with API keys the key's name (length-prefixed, so no two pairs collide) leads.
    private static string? ScopedIdempotencyKey(string? apiKeyName, string? idempotencyKey) =>
        apiKeyName is null || idempotencyKey is null ? idempotencyKey : $"{apiKeyName.Length}:{apiKeyName}:{idempotencyKey}";

    // The same key with the same body replays; the body is what the client asked for, in its order.
    private static string Fingerprint(IReadOnlyList<long> fileIds, string? callbackUrl)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(new { fileIds, callbackUrl }, DownloadsJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }
}
