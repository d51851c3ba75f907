namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Where delivery states live, keyed by job id. Every member is one atomic step, so a Redis version is a
/// hash per job and two short scripts (compare, then set) applying the rules of <see cref="WebhookDelivery"/>.
/// </summary>
public interface IWebhookDeliveryStore
{
    /// <summary>The delivery of the job; <c>null</c> when no attempt was made yet.</summary>
    Task<WebhookDelivery?> GetAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a new attempt, made by <paramref name="owner"/>, and returns the delivery after it; <c>null</c> when it
    /// must not be sent. Allowed while pending, to the run scheduled for attempt <paramref name="attempt"/> (the stored
    /// count is <c>attempt - 1</c>) or to the run that made the latest attempt (Hangfire re-ran it after a crash).
    /// So duplicate runs send nothing, and nothing is sent once delivered or failed.
    /// </summary>
    Task<WebhookDelivery?> TryStartAttemptAsync(Guid jobId, int attempt, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Records how attempt <paramref name="attempt"/> ended, while the delivery is pending: a 2xx always (it must never
    /// be sent again), another outcome only if no later attempt started. Returns whether it was recorded.
    /// </summary>
    Task<bool> TryRecordAsync(Guid jobId, int attempt, Contracts.WebhookStatus status, int? statusCode, CancellationToken cancellationToken);
}
