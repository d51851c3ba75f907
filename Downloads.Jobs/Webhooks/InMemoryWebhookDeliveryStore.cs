using System.Collections.Concurrent;
using Downloads.Contracts;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// The embedded default: delivery states in process memory, for one process, each forgotten
/// <see cref="WebhookDelivery.Retention"/> after its last change, as in Redis.
/// </summary>
public sealed class InMemoryWebhookDeliveryStore(TimeProvider timeProvider) : IWebhookDeliveryStore
{
    private readonly ConcurrentDictionary<Guid, Entry> _deliveries = new();
    private readonly SweepSchedule _sweeps = new(TimeSpan.FromMinutes(1));

    /// <summary>How many delivery states are held.</summary>
    internal int Count => _deliveries.Count;

    public Task<WebhookDelivery?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_deliveries.TryGetValue(jobId, out var entry) ? entry.Delivery : null);

    public Task<WebhookDelivery?> TryStartAttemptAsync(Guid jobId, int attempt, string owner, CancellationToken cancellationToken) =>
        Task.FromResult(Apply(jobId, d => d.StartAttempt(attempt, owner)));

    public Task<bool> TryRecordAsync(Guid jobId, int attempt, WebhookStatus status, int? statusCode, CancellationToken cancellationToken) =>
        Task.FromResult(Apply(jobId, d => d.Record(attempt, status, statusCode)) is not null);

    // Compare-and-swap until the rule's answer is stored or the rule refuses.
    private WebhookDelivery? Apply(Guid jobId, Func<WebhookDelivery, WebhookDelivery?> rule)
    {
        var now = timeProvider.GetUtcNow();
        SweepExpired(now);
        while (true)
        {
            var current = _deliveries.GetOrAdd(jobId, id => new Entry(WebhookDelivery.New(id), now));
            if (rule(current.Delivery) is not { } next)
            {
                return null;
            }

            if (_deliveries.TryUpdate(jobId, new Entry(next, now), current))
            {
                return next;
            }
        }
    }

    private void SweepExpired(DateTimeOffset now)
    {
        if (!_sweeps.TryStart(now))
        {
            return;
        }

        foreach (var pair in _deliveries)
        {
            if (now - pair.Value.ChangedAt >= WebhookDelivery.Retention)
            {
                // Only if unchanged since it was read.
                _deliveries.TryRemove(pair);
            }
        }
    }

    private sealed record Entry(WebhookDelivery Delivery, DateTimeOffset ChangedAt);
}
