using System.Collections.Concurrent;
using Downloads.Contracts;

namespace Downloads.Jobs.Webhooks;

/// <summary>The embedded default: delivery states in process memory, for one process.</summary>
public sealed class InMemoryWebhookDeliveryStore : IWebhookDeliveryStore
{
    private readonly ConcurrentDictionary<Guid, WebhookDelivery> _deliveries = new();

    public Task<WebhookDelivery?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_deliveries.TryGetValue(jobId, out var delivery) ? delivery : null);

    public Task<WebhookDelivery?> TryStartAttemptAsync(Guid jobId, int attempt, string owner, CancellationToken cancellationToken) =>
        Task.FromResult(Apply(jobId, d => d.StartAttempt(attempt, owner)));

    public Task<bool> TryRecordAsync(Guid jobId, int attempt, WebhookStatus status, int? statusCode, CancellationToken cancellationToken) =>
        Task.FromResult(Apply(jobId, d => d.Record(attempt, status, statusCode)) is not null);

    // Compare-and-swap until the rule's answer is stored or the rule refuses.
    private WebhookDelivery? Apply(Guid jobId, Func<WebhookDelivery, WebhookDelivery?> rule)
    {
        while (true)
        {
            var current = _deliveries.GetOrAdd(jobId, WebhookDelivery.New);
            if (rule(current) is not { } next)
            {
                return null;
            }

            if (_deliveries.TryUpdate(jobId, next, current))
            {
                return next;
            }
        }
    }
}
