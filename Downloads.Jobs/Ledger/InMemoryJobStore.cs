using System.Collections.Concurrent;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>The embedded default: jobs in process memory, for one process.</summary>
public sealed class InMemoryJobStore(TimeProvider timeProvider) : IJobStore
{
    /// <summary>Events kept per job, by every store; a long job logs thousands, and older ones are replayed as a snapshot instead.</summary>
    internal const int EventLogCapacity = 2000;

    private readonly ConcurrentDictionary<Guid, Entry> _jobs = new();
    private readonly ConcurrentDictionary<string, (IdempotencyBinding Binding, DateTimeOffset ExpiresAt)> _keys = new(StringComparer.Ordinal);
    private readonly SweepSchedule _keySweeps = new(TimeSpan.FromMinutes(1));

    /// <summary>How many idempotency keys are held, expired ones not swept yet included.</summary>
    internal int IdempotencyKeyCount => _keys.Count;

    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_jobs.TryGetValue(jobId, out var entry) ? entry.Job : null);

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken)
    {
        if (!_jobs.TryAdd(job.Id, new Entry(job)))
        {
            throw new InvalidOperationException($"Job {job.Id} exists already.");
        }

        return Task.CompletedTask;
    }

    public Task<bool> TryCommitAsync(DownloadJob next, JobEvent jobEvent, CancellationToken cancellationToken)
    {
        if (!_jobs.TryGetValue(next.Id, out var entry))
        {
            return Task.FromResult(false);
        }

        lock (entry)
        {
            if (entry.Job.Seq != next.Seq - 1)
            {
                return Task.FromResult(false);
            }

            entry.Job = next;
            entry.Events.Enqueue(jobEvent);
            while (entry.Events.Count > EventLogCapacity)
            {
                entry.Events.Dequeue();
            }
        }

        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<JobEvent>?> GetEventsAfterAsync(Guid jobId, long afterSeq, CancellationToken cancellationToken)
    {
        if (!_jobs.TryGetValue(jobId, out var entry))
        {
            return Task.FromResult<IReadOnlyList<JobEvent>?>(null);
        }

        lock (entry)
        {
            return Task.FromResult(EventLog.After(entry.Events, entry.Job.Seq, afterSeq));
        }
    }

    public Task<IdempotencyBinding> BindIdempotencyKeyAsync(IdempotencyBinding binding, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        SweepExpiredKeys(now);
        var held = _keys.AddOrUpdate(
            binding.Key,
            _ => (binding, now + lifetime),
            (_, existing) => existing.ExpiresAt <= now ? (binding, now + lifetime) : existing);
        return Task.FromResult(held.Binding);
    }

    public Task DeleteAsync(Guid jobId, CancellationToken cancellationToken)
    {
        _jobs.TryRemove(jobId, out _);
        return Task.CompletedTask;
    }

    public Task ReleaseIdempotencyKeyAsync(string key, CancellationToken cancellationToken)
    {
        _keys.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    // Expired keys are replaced when bound again; the others are swept here, so keys never used again go too.
    private void SweepExpiredKeys(DateTimeOffset now)
    {
        if (!_keySweeps.TryStart(now))
        {
            return;
        }

        foreach (var pair in _keys)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                _keys.TryRemove(pair);
            }
        }
    }

    private sealed class Entry(DownloadJob job)
    {
        public DownloadJob Job { get; set; } = job;

        public Queue<JobEvent> Events { get; } = new();
    }
}

/// <summary>Replay from a job's event log, shared by the stores.</summary>
internal static class EventLog
{
    /// <summary>The events after <paramref name="afterSeq"/>, or null when the log no longer holds all of them.</summary>
    public static IReadOnlyList<JobEvent>? After(IEnumerable<JobEvent> log, long currentSeq, long afterSeq)
    {
        if (afterSeq >= currentSeq)
        {
            return [];
        }

        var events = log.Where(e => e.Seq > afterSeq).ToList();
        return events.Count == currentSeq - afterSeq ? events : null;
    }
}
