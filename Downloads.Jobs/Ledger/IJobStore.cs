using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// Where jobs live: in process memory (the embedded default) or in Redis, as a header and one record per file.
/// It knows nothing of what a change means (<see cref="JobTransitions"/> does); it only commits a new header and
/// the files that changed atomically when the stored seq is still the one they were derived from, and keeps the
/// job's recent events for replay. It also keeps the ready ring: the jobs that wait for a run
/// (<see cref="JobTransitions.IsReady"/>), joined and left in the same atomic step as the commit that changed that,
/// so no job is ever ready without being in the ring.
/// </summary>
public interface IJobStore
{
    /// <summary>The whole job, header and every file: O(files), for documents and snapshots, never for a change.</summary>
    Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>The job's header alone: O(1).</summary>
    Task<JobHeader?> GetHeaderAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>
    /// The header and a few files, read together (one round trip): O(files asked). Indices past the job's last file are
    /// left out; <c>null</c> when the job does not exist.
    /// </summary>
    Task<JobFilesState?> GetFilesAsync(Guid jobId, IReadOnlyList<int> indices, CancellationToken cancellationToken);

    /// <summary>Stores a new job (seq 1).</summary>
    Task CreateAsync(DownloadJob job, CancellationToken cancellationToken);

    /// <summary>Stores new jobs together, in one round trip (the group commit of initiates).</summary>
    Task CreateManyAsync(IReadOnlyList<DownloadJob> jobs, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the header <paramref name="next"/> and the given <paramref name="files"/> (usually one) and appends
    /// <paramref name="jobEvent"/> to the job's event log, in one atomic step, if the stored job's seq is still
    /// <c>next.Seq - 1</c>. Returns false when another writer came first. Costs O(files written), not O(job).
    /// </summary>
    Task<bool> TryCommitAsync(JobHeader next, IReadOnlyList<DownloadFile> files, JobEvent jobEvent, CancellationToken cancellationToken);

    /// <summary>
    /// The job's events after <paramref name="afterSeq"/>, oldest first; <c>null</c> when they can no longer
    /// all be replayed (the log keeps the most recent ones only) and the caller should send a snapshot.
    /// </summary>
    Task<IReadOnlyList<JobEvent>?> GetEventsAfterAsync(Guid jobId, long afterSeq, CancellationToken cancellationToken);

    /// <summary>
    /// Binds an <c>Idempotency-Key</c> to a job atomically. Returns the binding that holds after the call:
    /// the new one, or the one an earlier request made.
    /// </summary>
    Task<IdempotencyBinding> BindIdempotencyKeyAsync(IdempotencyBinding binding, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Forgets jobs that were never acknowledged (their run could not be enqueued), events and all, in one round trip.</summary>
    Task DeleteAsync(IReadOnlyList<Guid> jobIds, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="count"/> ready jobs in fair order: round-robin across clients (<see cref="JobHeader.Client"/>),
    /// then across each client's jobs, each job once: the first job to come round again ends the round (so a lone
    /// 1000-file job costs one short script per refill, not one pick per free slot). The ring moves on.
    /// </summary>
    Task<IReadOnlyList<Guid>> NextReadyAsync(int count, CancellationToken cancellationToken);

    /// <summary>Whether any job waits for a run.</summary>
    Task<bool> AnyReadyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Listens, from here on, for jobs joining the ready ring from any process: the task returned completes when the
    /// next one joins. Whoever looks at the ring after this call returns misses none.
    /// </summary>
    Task<Task> ListenForReadyAsync(CancellationToken cancellationToken);

    /// <summary>Takes a job that no longer exists (expired, forgotten) out of the ready ring.</summary>
    Task DropReadyAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Forgets a binding whose job could not be created, so the client may try again.</summary>
    Task ReleaseIdempotencyKeyAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Throws <see cref="JobStoreFullException"/> when a new job of <paramref name="files"/> files would not fit, in
    /// O(1). A store bounded by memory (in process) says so; by default there is always room.
    /// </summary>
    void EnsureRoomFor(int files)
    {
    }
}

/// <summary>A job's header and some of its files, as read together.</summary>
public sealed record JobFilesState(JobHeader Job, IReadOnlyList<DownloadFile> Files);

/// <summary>An <c>Idempotency-Key</c>, the fingerprint of the body it came with, and the job it made.</summary>
public sealed record IdempotencyBinding(string Key, string Fingerprint, Guid JobId, int TotalFiles);

/// <summary>The store holds as many files as it may; the API answers 503 with <c>Retry-After</c>.</summary>
public sealed class JobStoreFullException(TimeSpan retryAfter)
    : Exception($"The job store is full; room is expected in {retryAfter}.")
{
    /// <summary>When stored jobs are due to expire and make room.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The job store cannot be reached (Redis down); the API answers 503.</summary>
public sealed class JobStoreUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
