using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Telemetry;

namespace Downloads.Jobs.Ledger;

/// <summary>What an update found and did: the job as it now stands, and the event recorded, if any.</summary>
public sealed record JobUpdate(DownloadJob Job, JobEvent? Event)
{
    public bool Changed => Event is not null;
}

/// <summary>
/// The one way a job changes: read, decide with a <see cref="JobTransitions"/> function, commit if nobody
/// else committed in between (else decide again), then publish the event. So <c>seq</c> grows by one per
/// recorded change, <c>percent</c> never decreases, and every recorded change is published once
/// and counted once in the metrics.
/// </summary>
public sealed class JobLedger(IJobStore store, JobEventPublisher publisher, TimeProvider timeProvider, DownloadsMetrics? metrics = null)
{
    // Changes of one job in one process are serialized, so they commit without retries and publish in seq order.
    private readonly StripedAsyncLock _locks = new(256);

    public TimeProvider Time => timeProvider;

    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        store.GetAsync(jobId, cancellationToken);

    public async Task<DownloadJob> CreateAsync(DownloadJob job, CancellationToken cancellationToken)
    {
        await store.CreateAsync(job, cancellationToken);
        return job;
    }

    /// <summary>Applies <paramref name="decide"/> atomically; <c>null</c> when the job does not exist.</summary>
    public async Task<JobUpdate?> UpdateAsync(
        Guid jobId, Func<DownloadJob, DateTimeOffset, JobChange?> decide, CancellationToken cancellationToken)
    {
        using var _ = await _locks.AcquireAsync(jobId, cancellationToken);
        while (true)
        {
            if (await store.GetAsync(jobId, cancellationToken) is not { } current)
            {
                return null;
            }

            var now = timeProvider.GetUtcNow();
            if (decide(current, now) is not { } change)
            {
                return new JobUpdate(current, null);
            }

            var next = change.Next with { Seq = current.Seq + 1 };
            next = next with { Percent = Math.Max(current.Percent, JobTransitions.ComputePercent(next)) };
            var jobEvent = JobDocuments.ToEvent(next, change.Type, change.FileId);
            if (await store.TryCommitAsync(next, jobEvent, cancellationToken))
            {
                metrics?.ChangeCommitted(current, next, change.FileId, now);
                await publisher.PublishAsync(jobEvent, cancellationToken);
                return new JobUpdate(next, jobEvent);
            }
        }
    }
}
