using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Starts the delivery of an ended job with a <c>callback_url</c>. Called wherever a terminal state is seen
/// (the run or request that committed it, and any later run that finds the job ended), not from an event sink,
/// whose publish a crash after the commit would skip. Calling it twice is harmless: the delivery job decides.
/// </summary>
public sealed class WebhookTrigger(IWebhookDeliveryStore deliveries, BackgroundJobQueue backgroundJobs)
{
    public async Task EnsureDeliveryAsync(JobHeader job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.CallbackUrl is null || !job.Status.IsTerminal())
        {
            return;
        }

        // Once attempted, the delivery's own runs carry it on.
        if (await deliveries.GetAsync(job.Id, cancellationToken) is { } delivery
            && (delivery.Attempts > 0 || delivery.Status != WebhookStatus.Pending))
        {
            return;
        }

        await backgroundJobs.EnqueueAsync<WebhookDeliveryJob>(j => j.DeliverAsync(job.Id, 1, null, CancellationToken.None));
    }
}
