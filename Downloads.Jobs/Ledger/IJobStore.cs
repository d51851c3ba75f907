using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// Where jobs live: in process memory (the embedded default) or in Redis. It knows nothing of what a
/// change means (<see cref="JobTransitions"/> does); it only commits a new version atomically when the
/// stored one is still the version it was derived from, and keeps the job's recent events for replay.
/// </summary>
public interface IJobStore
{
    Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Stores a new job (seq 1).</summary>
    Task CreateAsync(DownloadJob job, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="next"/> and appends <paramref name="jobEvent"/> to the job's event log, in one atomic step,
    /// if the stored job's seq is still <c>next.Seq - 1</c>. Returns false when another writer came first.
    /// </summary>
    Task<bool> TryCommitAsync(DownloadJob next, JobEvent jobEvent, CancellationToken cancellationToken);

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

    /// <summary>Forgets a job that was never acknowledged (its dispatch could not be enqueued), events and all.</summary>
    Task DeleteAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Forgets a binding whose job could not be created, so the client may try again.</summary>
    Task ReleaseIdempotencyKeyAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An <c>Idempotency-Key</c>, the fingerprint of the body it came with, and the job it made.</summary>
public sealed record IdempotencyBinding(string Key, string Fingerprint, Guid JobId, int TotalFiles);

/// <summary>The job store cannot be reached (Redis down); the API answers 503.</summary>
public sealed class JobStoreUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
