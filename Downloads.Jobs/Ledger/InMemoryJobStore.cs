using System.Collections.Concurrent;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>The embedded default: jobs in process memory, for one process; a header and an array of files per job.</summary>
public sealed class InMemoryJobStore(TimeProvider timeProvider) : IJobStore
{
    /// <summary>Events kept per job, by every store; a long job logs thousands, and older ones are replayed as a snapshot instead.</summary>
    internal const int EventLogCapacity = 2000;

    private readonly ConcurrentDictionary<Guid, Entry> _jobs = new();
    private readonly ConcurrentDictionary<string, (IdempotencyBinding Binding, DateTimeOffset ExpiresAt)> _keys = new(StringComparer.Ordinal);
    private readonly SweepSchedule _keySweeps = new(TimeSpan.FromMinutes(1));
    private readonly ReadyRing _ready = new();

    /// <summary>How many idempotency keys are held, expired ones not swept yet included.</summary>
    internal int IdempotencyKeyCount => _keys.Count;

    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken)
    {
        if (!_jobs.TryGetValue(jobId, out var entry))
        {
            return Task.FromResult<DownloadJob?>(null);
        }

        lock (entry)
        {
            return Task.FromResult<DownloadJob?>(new DownloadJob(entry.Header, [.. entry.Files]));
        }
    }

    public Task<JobHeader?> GetHeaderAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_jobs.TryGetValue(jobId, out var entry) ? entry.Header : null);

    public Task<JobFileState?> GetFileAsync(Guid jobId, int index, CancellationToken cancellationToken)
    {
        if (!_jobs.TryGetValue(jobId, out var entry) || index < 0 || index >= entry.Files.Length)
        {
            return Task.FromResult<JobFileState?>(null);
        }

        lock (entry)
        {
            return Task.FromResult<JobFileState?>(new JobFileState(entry.Header, entry.Files[index]));
        }
    }

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!_jobs.TryAdd(job.Id, new Entry(job.Header, [.. job.Files])))
        {
            throw new InvalidOperationException($"Job {job.Id} exists already.");
        }

        _ready.Set(job.Id, ReadyKeys.ClientOf(job.Header), JobTransitions.IsReady(job.Header));
        return Task.CompletedTask;
    }

    public async Task CreateManyAsync(IReadOnlyList<DownloadJob> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var job in jobs)
        {
            await CreateAsync(job, cancellationToken);
        }
    }

    public Task<bool> TryCommitAsync(JobHeader next, IReadOnlyList<DownloadFile> files, JobEvent jobEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(files);
        if (!_jobs.TryGetValue(next.Id, out var entry))
        {
            return Task.FromResult(false);
        }

        lock (entry)
        {
            if (entry.Header.Seq != next.Seq - 1)
            {
                return Task.FromResult(false);
            }

            entry.Header = next;
            _ready.Set(next.Id, ReadyKeys.ClientOf(next), JobTransitions.IsReady(next));
            foreach (var file in files)
            {
                entry.Files[file.Index] = file;
            }

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
            return Task.FromResult(EventLog.After(entry.Events, entry.Header.Seq, afterSeq));
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

    public Task DeleteAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        foreach (var jobId in jobIds)
        {
            _jobs.TryRemove(jobId, out _);
            _ready.Remove(jobId);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Guid>> NextReadyAsync(int count, CancellationToken cancellationToken) =>
        Task.FromResult(_ready.Next(count));

    public Task<bool> AnyReadyAsync(CancellationToken cancellationToken) => Task.FromResult(!_ready.IsEmpty);

    public Task DropReadyAsync(Guid jobId, CancellationToken cancellationToken)
    {
        _ready.Remove(jobId);
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

    // The header is replaced whole (it is small); a file is written in place: a change costs O(1).
    private sealed class Entry(JobHeader header, DownloadFile[] files)
    {
        public JobHeader Header { get; set; } = header;

        public DownloadFile[] Files { get; } = files;

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
