using System.Collections.Concurrent;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// The embedded default: delivery states in process memory, for one process, each forgotten
/// <see cref="RetentionOptions.Ended"/> after its last change, as in Redis, swept on writes at O(expired).
/// </summary>
public sealed class InMemoryWebhookDeliveryStore(TimeProvider timeProvider, IOptions<RetentionOptions> options) : IWebhookDeliveryStore
{
    private readonly TimeSpan _retention = options.Value.Ended;
    private readonly ConcurrentDictionary<Guid, Entry> _deliveries = new();
    private readonly ExpiryQueue<Guid> _expiries = new();

    /// <summary>How many delivery states are held.</summary>
    internal int Count => _deliveries.Count;

    public Task<WebhookDelivery?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_deliveries.TryGetValue(jobId, out var entry) ? entry.Delivery : null);

    public Task<WebhookDelivery?> TryStartAttemptAsync(Guid jobId, int attempt, string owner, CancellationToken cancellationToken) =>
        Task.FromResult(Apply(jobId, d => d.StartAttempt(attempt, owner)));

    public Task<bool> TryRecordAsync(Guid jobId, int attempt, Contracts.WebhookStatus status, int? statusCode, CancellationToken cancellationToken) =>
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
                _expiries.Add(jobId, now + _retention);
                return next;
            }
        }
    }

    private void SweepExpired(DateTimeOffset now)
    {
        foreach (var jobId in _expiries.TakeDue(now))
        {
            if (_deliveries.TryGetValue(jobId, out var entry) && now - entry.ChangedAt >= _retention)
            {
                // Only if unchanged since it was read.
                _deliveries.TryRemove(new KeyValuePair<Guid, Entry>(jobId, entry));
            }
        }
    }

    private sealed record Entry(WebhookDelivery Delivery, DateTimeOffset ChangedAt);
}
