using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;

namespace Downloads.Api.Realtime;

/// <summary>
/// Opens one job's events for a client that resumes from a <c>seq</c> it has: the SSE stream (<c>Last-Event-ID</c>)
/// and the hub's replay (<c>SubscribeFrom</c>, <c>?last_seq=</c>) read through it.
/// </summary>
public sealed class JobEventFeed(JobLedger ledger, IJobStore store, IJobEventStream events)
{
    /// <summary>The job's cursor, or null for an unknown job.</summary>
    public async Task<JobEventCursor?> OpenAsync(Guid jobId, CancellationToken cancellationToken)
    {
        // Subscribe before reading the job: whatever is recorded in between arrives live, and the cursor drops by
        // seq what it already handed out, so an event is neither lost nor repeated.
        var subscription = await events.SubscribeAsync(jobId, cancellationToken);
        try
        {
            if (await ledger.GetAsync(jobId, cancellationToken) is { } job)
            {
                return new JobEventCursor(job, subscription, ledger, store);
            }
        }
        catch
        {
            await subscription.DisposeAsync();
            throw;
        }

        await subscription.DisposeAsync();
        return null;
    }
}

/// <summary>
/// One reader's place in a job's events: first what the job's log still holds after the reader's seq (else a
/// <c>snapshot</c>), then the live events strictly in seq order, replaying from the log where the live feed skipped
/// one. Each event is handed out once, in order, with no gap: one sender per client, so nothing can overtake.
/// </summary>
public sealed class JobEventCursor : IAsyncDisposable
{
    private readonly JobEventSubscription _subscription;
    private readonly JobLedger _ledger;
    private readonly IJobStore _store;

    internal JobEventCursor(DownloadJob job, JobEventSubscription subscription, JobLedger ledger, IJobStore store)
    {
        Job = job;
        _subscription = subscription;
        _ledger = ledger;
        _store = store;
    }

    /// <summary>The job as it was when the cursor opened.</summary>
    public DownloadJob Job { get; }

    /// <summary>The seq of the last event handed out.</summary>
    public long Seq { get; private set; }

    /// <summary>The job's terminal event has been handed out (or the reader had it already): nothing follows.</summary>
    public bool Ended { get; private set; }

    /// <summary>
    /// The events after <paramref name="afterSeq"/> that the job's log still holds; a <c>snapshot</c> instead when
    /// it no longer holds them all, when <paramref name="afterSeq"/> is beyond the job, or when it is null.
    /// </summary>
    public Task<IReadOnlyList<JobEvent>> CatchUpAsync(long? afterSeq, CancellationToken cancellationToken) =>
        CatchUpAsync(Job, afterSeq, cancellationToken);

    /// <summary>
    /// The next events in seq order: one live event, or those the log replays over a gap in the live feed; empty
    /// when nothing new arrived within <paramref name="wait"/> (<see cref="Timeout.InfiniteTimeSpan"/>: no limit).
    /// </summary>
    public async Task<IReadOnlyList<JobEvent>> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        while (await ReadAsync(wait, cancellationToken) is { } next)
        {
            if (next.Seq == Seq + 1)
            {
                return [Advance(next)];
            }

            if (next.Seq > Seq + 1)
            {
                // A gap (the live feed dropped something): replay it from the job's log.
                var current = await _ledger.GetAsync(Job.Id, cancellationToken) ?? Job;
                return await CatchUpAsync(current, Seq, cancellationToken);
            }

            // At or below what was handed out already: a duplicate, dropped.
        }

        return [];
    }

    public ValueTask DisposeAsync() => _subscription.DisposeAsync();

    private async Task<IReadOnlyList<JobEvent>> CatchUpAsync(DownloadJob job, long? afterSeq, CancellationToken cancellationToken)
    {
        if (afterSeq is { } after && after <= job.Seq
            && await _store.GetEventsAfterAsync(job.Id, after, cancellationToken) is { } missed)
        {
            Seq = after;
            Ended = job.Status.IsTerminal() && after == job.Seq;
            return [.. missed.Select(Advance)];
        }

        return [Advance(JobDocuments.ToSnapshot(job))];
    }

    private JobEvent Advance(JobEvent jobEvent)
    {
        Seq = jobEvent.Seq;
        Ended = jobEvent.Status.IsTerminal();
        return jobEvent;
    }

    private async Task<JobEvent?> ReadAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (wait == Timeout.InfiniteTimeSpan)
        {
            return await _subscription.Reader.ReadAsync(cancellationToken);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        try
        {
            return await _subscription.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
