using System.ComponentModel;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Telemetry;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// The Hangfire job of a webhook: one attempt per run, in its own queue and worker pool. A retryable outcome
/// schedules the run of the next attempt; the store decides whether a run may send at all, so duplicate runs,
/// re-runs after a crash and runs after a recorded 2xx send nothing.
/// </summary>
public sealed partial class WebhookDeliveryJob(
    IJobStore jobs,
    IWebhookDeliveryStore deliveries,
    WebhookSender sender,
    WebhookSigner signer,
    WebhookRetrySchedule schedule,
    IBackgroundJobClient backgroundJobs,
    TimeProvider timeProvider,
    ILogger<WebhookDeliveryJob> logger,
    DownloadsMetrics? metrics = null)
{
    public const string Queue = "webhooks";

    /// <summary>Makes attempt number <paramref name="attempt"/> of the job's delivery, if it is still due.</summary>
    [DisplayName("Webhook of download job {0}, attempt {1}")]
    [Queue(Queue)]
    // Hangfire's own retries are for faults of the store; outcomes of the receiver are handled here.
    [AutomaticRetry(Attempts = 3, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task DeliverAsync(Guid jobId, int attempt, PerformContext? context, CancellationToken cancellationToken)
    {
        var owner = context?.BackgroundJob.Id ?? throw new InvalidOperationException("Runs under Hangfire only.");
        if (await jobs.GetAsync(jobId, cancellationToken) is not { CallbackUrl: { } callbackUrl } job || !job.Status.IsTerminal())
        {
            return;
        }

        if (await deliveries.TryStartAttemptAsync(jobId, attempt, owner, cancellationToken) is not { } started)
        {
            // Delivered, failed, or another run holds this attempt: nothing to send.
            return;
        }

        if (schedule.IsBeyondLimit(started.Attempts))
        {
            // A re-run after a crash found the attempts used up.
            await deliveries.TryRecordAsync(jobId, started.Attempts, WebhookStatus.Failed, started.LastStatusCode, cancellationToken);
            return;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(await TerminalEventAsync(job, cancellationToken), DownloadsJson.Options);
        var deliveryId = WebhookSigner.DeliveryId(jobId);
        var now = timeProvider.GetUtcNow();
        var result = signer.Sign(job.Header.ApiKeyName, deliveryId, now, body) is { } signature
            ? await sender.SendAsync(
                new WebhookRequest(new Uri(callbackUrl), WebhookSigner.EventName(job.Status), deliveryId, now, signature, body), cancellationToken)
            : new WebhookAttemptResult(WebhookAttemptOutcome.Failed, null, null, $"API key '{job.Header.ApiKeyName}' is no longer configured: nothing may sign for it");
        await RecordAsync(jobId, started.Attempts, result, cancellationToken);
    }

    private async Task RecordAsync(Guid jobId, int attempt, WebhookAttemptResult result, CancellationToken cancellationToken)
    {
        switch (result.Outcome)
        {
            case WebhookAttemptOutcome.Delivered:
                await deliveries.TryRecordAsync(jobId, attempt, WebhookStatus.Delivered, result.StatusCode, cancellationToken);
                LogDelivered(logger, jobId, attempt, result.StatusCode);
                metrics?.WebhookDelivered("delivered");
                break;

            case WebhookAttemptOutcome.Retry when schedule.AllowsAnother(attempt):
                var delay = schedule.DelayAfter(attempt, result.RetryAfter);
                // Scheduled before the outcome is recorded: a crash in between leaves the next run due, never none.
                backgroundJobs.Schedule<WebhookDeliveryJob>(j => j.DeliverAsync(jobId, attempt + 1, null, CancellationToken.None), delay);
                await deliveries.TryRecordAsync(jobId, attempt, WebhookStatus.Pending, result.StatusCode, cancellationToken);
                LogRetryScheduled(logger, jobId, attempt, result.Reason, delay);
                metrics?.WebhookDelivered("retry");
                break;

            default:
                await deliveries.TryRecordAsync(jobId, attempt, WebhookStatus.Failed, result.StatusCode, cancellationToken);
                LogFailed(logger, jobId, attempt, result.Reason);
                metrics?.WebhookDelivered("failed");
                break;
        }
    }

    // The body is the job's terminal event as it was published, from the event log where it still is.
    private async Task<JobEvent> TerminalEventAsync(DownloadJob job, CancellationToken cancellationToken)
    {
        var logged = await jobs.GetEventsAfterAsync(job.Id, job.Seq - 1, cancellationToken);
        return logged is [{ } last] && last.Status.IsTerminal()
            ? last
            : JobDocuments.ToEvent(job.Header, TerminalEventType(job.Status), results: JobDocuments.ToResults(job));
    }

    private static JobEventType TerminalEventType(JobStatus status) => status switch
    {
        JobStatus.Completed => JobEventType.Completed,
        JobStatus.Failed => JobEventType.Failed,
        _ => JobEventType.Cancelled,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook of download job {JobId} delivered at attempt {Attempt} ({StatusCode})")]
    private static partial void LogDelivered(ILogger logger, Guid jobId, int attempt, int? statusCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook of download job {JobId}: attempt {Attempt} {Reason}; next attempt in {Delay}")]
    private static partial void LogRetryScheduled(ILogger logger, Guid jobId, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of download job {JobId} failed at attempt {Attempt}: {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid jobId, int attempt, string reason);
}
