using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Where the one webhook delivery of a job stands. Kept apart from <see cref="DownloadJob"/>: a delivery
/// attempt is not a recorded change of the job (its <c>seq</c> and event stream ended with it).
/// </summary>
/// <param name="Owner">The run (Hangfire job id) that made the latest attempt; a re-run of it after a crash may attempt again.</param>
public sealed record WebhookDelivery(Guid JobId, WebhookStatus Status, int Attempts, int? LastStatusCode, string? Owner)
{
    /// <summary>A delivery nobody has attempted yet.</summary>
    public static WebhookDelivery New(Guid jobId) => new(jobId, WebhookStatus.Pending, 0, null, null);

    /// <summary>The status document's <c>webhook</c>: <c>null</c> without a <c>callback_url</c>.</summary>
    public static WebhookState? StateOf(JobHeader job, WebhookDelivery? delivery) =>
        job.CallbackUrl is null ? null : (delivery ?? New(job.Id)).ToState();

    public WebhookState ToState() => new(Status, Attempts, LastStatusCode);

    /// <summary>The rule of <see cref="IWebhookDeliveryStore.TryStartAttemptAsync"/>, shared by the stores.</summary>
    public WebhookDelivery? StartAttempt(int attempt, string owner) =>
        Status == WebhookStatus.Pending && (Attempts == attempt - 1 || Owner == owner)
            ? this with { Attempts = Attempts + 1, Owner = owner }
            : null;

    /// <summary>The rule of <see cref="IWebhookDeliveryStore.TryRecordAsync"/>, shared by the stores.</summary>
    public WebhookDelivery? Record(int attempt, WebhookStatus status, int? statusCode) =>
        Status == WebhookStatus.Pending && (status == WebhookStatus.Delivered || Attempts == attempt)
            ? this with { Status = status, LastStatusCode = statusCode }
            : null;
}
