using System.Collections.Concurrent;
using Downloads.Contracts;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// The embedded default: jobs in process memory, for one process; a header and an array of files per job. Jobs,
/// their event logs and idempotency keys expire as <see cref="RetentionOptions"/> says, swept on the store's writes
/// at O(expired); the files of stored jobs are counted, and <see cref="EnsureRoomFor"/> refuses new ones beyond
/// <see cref="RetentionOptions.MaxInMemoryFiles"/>.
/// </summary>
public sealed class InMemoryJobStore(TimeProvider timeProvider, IOptions<RetentionOptions> options) : IJobStore
{
    /// <summary>Events kept per job, by every store; a long job logs thousands, and older ones are replayed as a snapshot instead.</summary>
    internal const int EventLogCapacity = 2000;

    private readonly RetentionOptions _retention = options.Value;
    private readonly ConcurrentDictionary<Guid, Entry> _jobs = new();
    private readonly ConcurrentDictionary<string, (IdempotencyBinding Binding, DateTimeOffset ExpiresAt)> _keys = new(StringComparer.Ordinal);
    private readonly ReadyRing _ready = new();

    // One queue per lifetime, so each is in expiry order: jobs by creation (max age), ended jobs, keys.
    private readonly ExpiryQueue<Guid> _aging = new();
    private readonly ExpiryQueue<Guid> _ended = new();
    private readonly ExpiryQueue<string> _keyExpiries = new();
    private long _storedFiles;

    /// <summary>How many idempotency keys are held, expired ones not swept yet included.</summary>
    internal int IdempotencyKeyCount => _keys.Count;

    /// <summary>How many jobs are held, expired ones not swept yet included.</summary>
    internal int JobCount => _jobs.Count;

    /// <summary>How many files the held jobs count together.</summary>
    internal long StoredFiles => Interlocked.Read(ref _storedFiles);

    /// <summary>Items in the expiry queues, stale ones included: what the bookkeeping of expiry costs.</summary>
    internal int QueuedExpiries => _aging.Count + _ended.Count + _keyExpiries.Count;

    public void EnsureRoomFor(int files)
    {
        if (StoredFiles + files <= _retention.MaxInMemoryFiles)
        {
            return;
        }

        // Room comes back when stored jobs expire: the earliest due one says when to try again.
        var now = timeProvider.GetUtcNow();
        Sweep(now);
        if (StoredFiles + files > _retention.MaxInMemoryFiles)
        {
            // Nothing ended yet: a job that ends now is kept the whole retention, unless one reaches its max age first.
            var next = _ended.NextAt ?? now + _retention.Ended;
            throw new JobStoreFullException((_aging.NextAt is { } aging && aging < next ? aging : next) - now);
        }
    }

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

    public Task<JobFilesState?> GetFilesAsync(Guid jobId, IReadOnlyList<int> indices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (!_jobs.TryGetValue(jobId, out var entry))
        {
            return Task.FromResult<JobFilesState?>(null);
        }

        lock (entry)
        {
            DownloadFile[] files = [.. indices.Where(i => i >= 0 && i < entry.Files.Length).Select(i => entry.Files[i])];
            return Task.FromResult<JobFilesState?>(new JobFilesState(entry.Header, files));
        }
    }

    public Task CreateAsync(DownloadJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        Sweep(timeProvider.GetUtcNow());
        var expiresAt = job.Header.CreatedAt + _retention.MaxJobAge;
        if (!_jobs.TryAdd(job.Id, new Entry(job.Header, [.. job.Files], expiresAt)))
        {
            throw new InvalidOperationException($"Job {job.Id} exists already.");
        }

        Interlocked.Add(ref _storedFiles, job.Files.Length);
        _aging.Add(job.Id, expiresAt);
        _aging.CompactIfStale(_jobs.Count, (id, at) => _jobs.TryGetValue(id, out var entry) && entry.ExpiresAt == at);
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
        var now = timeProvider.GetUtcNow();
        Sweep(now);
        if (!_jobs.TryGetValue(next.Id, out var entry))
        {
            return Task.FromResult(false);
        }

        lock (entry)
        {
            if (entry.Forgotten || entry.Header.Seq != next.Seq - 1)
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

            if (next.Status.IsTerminal())
            {
                entry.ExpiresAt = now + _retention.Ended;
            }
        }

        // Queued outside the entry's lock: no thread holds a queue's lock and an entry's together.
        if (next.Status.IsTerminal())
        {
            _ended.Add(next.Id, now + _retention.Ended);
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
        ArgumentNullException.ThrowIfNull(binding);
        var now = timeProvider.GetUtcNow();
        Sweep(now);
        var held = _keys.AddOrUpdate(
            binding.Key,
            _ => (binding, now + lifetime),
            (_, existing) => existing.ExpiresAt <= now ? (binding, now + lifetime) : existing);
        if (held.Binding == binding)
        {
            _keyExpiries.Add(binding.Key, now + lifetime);
        }

        return Task.FromResult(held.Binding);
    }

    public Task DeleteAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        foreach (var jobId in jobIds)
        {
            if (_jobs.TryGetValue(jobId, out var entry))
            {
                Forget(jobId, entry);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Guid>> NextReadyAsync(int count, CancellationToken cancellationToken) =>
        Task.FromResult(_ready.Next(count));

    public Task<bool> AnyReadyAsync(CancellationToken cancellationToken) => Task.FromResult(!_ready.IsEmpty);

    public Task<Task> ListenForReadyAsync(CancellationToken cancellationToken) => Task.FromResult(_ready.Joined.Next);

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

    // On every write: what is due is at the front of the queues, so this costs O(expired). Each entry is checked
    // against its own expiry, which may have moved since it was queued (a job that ended is kept longer, or less).
    private void Sweep(DateTimeOffset now)
    {
        ForgetExpired(_aging.TakeDue(now), now);
        ForgetExpired(_ended.TakeDue(now), now);

        foreach (var key in _keyExpiries.TakeDue(now))
        {
            if (_keys.TryGetValue(key, out var held) && held.ExpiresAt <= now)
            {
                // Only if unchanged since it was read: a key bound again meanwhile stays.
                _keys.TryRemove(new KeyValuePair<string, (IdempotencyBinding, DateTimeOffset)>(key, held));
            }
        }
    }

    private void ForgetExpired(IReadOnlyList<Guid> due, DateTimeOffset now)
    {
        foreach (var jobId in due)
        {
            if (_jobs.TryGetValue(jobId, out var entry) && entry.ExpiresAt <= now)
            {
                Forget(jobId, entry);
            }
        }
    }

    private void Forget(Guid jobId, Entry entry)
    {
        lock (entry)
        {
            if (entry.Forgotten)
            {
                return;
            }

            // A commit that holds the entry already is refused, not written where nobody reads it.
            entry.Forgotten = true;
        }

        _jobs.TryRemove(new KeyValuePair<Guid, Entry>(jobId, entry));
        _ready.Remove(jobId);
        Interlocked.Add(ref _storedFiles, -entry.Files.Length);
    }

    // The header is replaced whole (it is small); a file is written in place: a change costs O(1).
    private sealed class Entry(JobHeader header, DownloadFile[] files, DateTimeOffset expiresAt)
    {
        private long _expiresAtTicks = expiresAt.UtcTicks;

        public JobHeader Header { get; set; } = header;

        public DownloadFile[] Files { get; } = files;

        public Queue<JobEvent> Events { get; } = new();

        /// <summary>Set under the entry's lock; read without it by sweeps.</summary>
        public DateTimeOffset ExpiresAt
        {
            get => new(Interlocked.Read(ref _expiresAtTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _expiresAtTicks, value.UtcTicks);
        }

        public bool Forgotten { get; set; }
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
