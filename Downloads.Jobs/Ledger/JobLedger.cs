using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Telemetry;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// What an update found and did: the header as it now stands, the file it concerned (as it now stands), and the
/// event recorded, if any.
/// </summary>
public sealed record JobUpdate(JobHeader Job, DownloadFile? File, JobEvent? Event)
{
    public bool Changed => Event is not null;
}

/// <summary>
/// The one way a job changes: read the header (and the one file concerned), decide with a <see cref="JobTransitions"/>
/// function, commit if nobody else committed in between (else decide again), then publish the event. So <c>seq</c>
/// grows by one per recorded change, <c>percent</c> never decreases, and every recorded change is published once
/// and counted once in the metrics. A change reads and writes O(1) data; only events that carry every file's
/// result (terminal ones) read the whole job, once. Most changes read nothing: they are decided on what this process
/// last committed or read of the job (<see cref="RecentJobs"/>), and the commit's compare-and-set on seq verifies it.
/// </summary>
public sealed class JobLedger(IJobStore store, JobEventPublisher publisher, TimeProvider timeProvider, DownloadsMetrics? metrics = null)
{
    // Files a read fetches: the one to change and the next ones, which claims (in index order) want next.
    private const int ReadAhead = 8;

    // Changes of one job in one process are serialized, so they commit without retries and publish in seq order.
    private readonly StripedAsyncLock _locks = new(256);

    private readonly RecentJobs _recent = new(capacity: 4096);

    public TimeProvider Time => timeProvider;

    /// <summary>The whole job (O(files)): for documents and snapshots.</summary>
    public Task<DownloadJob?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        store.GetAsync(jobId, cancellationToken);

    public Task<JobHeader?> GetHeaderAsync(Guid jobId, CancellationToken cancellationToken) =>
        store.GetHeaderAsync(jobId, cancellationToken);

    /// <summary>Up to <paramref name="count"/> ready jobs in fair order (<see cref="IJobStore.NextReadyAsync"/>).</summary>
    public Task<IReadOnlyList<Guid>> NextReadyAsync(int count, CancellationToken cancellationToken) =>
        store.NextReadyAsync(count, cancellationToken);

    public Task<bool> AnyReadyAsync(CancellationToken cancellationToken) => store.AnyReadyAsync(cancellationToken);

    /// <summary>A task that completes when the next job joins the ready ring (<see cref="IJobStore.ListenForReadyAsync"/>).</summary>
    public Task<Task> ListenForReadyAsync(CancellationToken cancellationToken) => store.ListenForReadyAsync(cancellationToken);

    /// <summary>Takes a job that no longer exists out of the ready ring.</summary>
    public Task DropReadyAsync(Guid jobId, CancellationToken cancellationToken) => store.DropReadyAsync(jobId, cancellationToken);

    /// <summary>A change of the job alone (start, pause, resume); <c>null</c> when the job does not exist.</summary>
    public Task<JobUpdate?> UpdateAsync(Guid jobId, Func<JobHeader, DateTimeOffset, JobChange?> decide, CancellationToken cancellationToken) =>
        UpdateCoreAsync(
            jobId,
            () => _recent.Header(jobId) is { } header ? new Read(header, null, null) : null,
            async () => await store.GetHeaderAsync(jobId, cancellationToken) is { } header ? new Read(header, null, null) : null,
            (read, now) => decide(read.Header, now),
            cancellationToken);

    /// <summary>
    /// A change of one file (claim, tick, outcome): reads and writes that file and the header only. A read also
    /// fetches the next few files, which the next claims of the job are likely to want.
    /// </summary>
    public Task<JobUpdate?> UpdateFileAsync(
        Guid jobId, int index, Func<JobHeader, DownloadFile, DateTimeOffset, JobChange?> decide, CancellationToken cancellationToken) =>
        UpdateCoreAsync(
            jobId,
            () => _recent.File(jobId, index) is var (header, file) ? new Read(header, file, null) : null,
            async () => await store.GetFilesAsync(jobId, [.. Enumerable.Range(index, ReadAhead)], cancellationToken) is { } state
                && state.Files.FirstOrDefault(f => f.Index == index) is { } file
                ? new Read(state.Job, file, null, state.Files)
                : null,
            (read, now) => decide(read.Header, read.File!, now),
            cancellationToken);

    /// <summary>A change that needs every file (a cancel): O(files), once in a job's life.</summary>
    public Task<JobUpdate?> UpdateWholeAsync(Guid jobId, Func<DownloadJob, DateTimeOffset, JobChange?> decide, CancellationToken cancellationToken) =>
        UpdateCoreAsync(
            jobId,
            () => null,
            async () => await store.GetAsync(jobId, cancellationToken) is { } job ? new Read(job.Header, null, job, []) : null,
            (read, now) => decide(read.Whole!, now),
            cancellationToken);

    // Decides first on what this process last saw of the job, if anything (recalled), which saves a read: the commit's
    // compare-and-set verifies that guess. A guess that fails to commit, or on which nothing is to be done, is dropped
    // and the decision made again on the stored job, so every answer was either committed or read.
    private async Task<JobUpdate?> UpdateCoreAsync(
        Guid jobId, Func<Read?> recall, Func<Task<Read?>> read, Func<Read, DateTimeOffset, JobChange?> decide, CancellationToken cancellationToken)
    {
        using var _ = await _locks.AcquireAsync(jobId, cancellationToken);
        var current = recall();
        var guessed = current is not null;
        while (true)
        {
            if (current is null)
            {
                if (await read() is not { } stored)
                {
                    _recent.Forget(jobId);
                    return null;
                }

                _recent.Read(stored.Header, stored.Fetched);
                current = stored;
            }

            var now = timeProvider.GetUtcNow();
            if (decide(current, now) is not { } change)
            {
                if (guessed)
                {
                    (current, guessed) = (null, false);
                    continue;
                }

                return new JobUpdate(current.Header, current.File, null);
            }

            var next = change.Next with { Seq = current.Header.Seq + 1 };
            next = next with { Percent = JobTransitions.ComputePercent(next with { Percent = current.Header.Percent }) };
            IReadOnlyList<DownloadFile> written = !change.Files.IsDefault ? change.Files : change.File is { } file ? [file] : [];
            var results = JobDocuments.CarriesResults(change.Type)
                ? await ResultsAfterAsync(jobId, current.Whole, written, cancellationToken)
                : null;
            var jobEvent = JobDocuments.ToEvent(next, change.Type, change.File, results);
            if (await store.TryCommitAsync(next, written, jobEvent, cancellationToken))
            {
                _recent.Committed(next, written);
                metrics?.ChangeCommitted(current.Header, next, current.File, change.File, now);
                await publisher.PublishAsync(jobEvent, cancellationToken);
                return new JobUpdate(next, change.File, jobEvent);
            }

            // Another writer came first: decide again on the job as it now stands.
            _recent.Forget(jobId);
            (current, guessed) = (null, false);
        }
    }

    // Terminal events carry every file's result: the whole job is read once (O(files)), with this change's files over it.
    // A concurrent writer would change seq too, so the commit's compare-and-set also guards this read.
    private async Task<IReadOnlyList<FileResult>?> ResultsAfterAsync(
        Guid jobId, DownloadJob? whole, IReadOnlyList<DownloadFile> written, CancellationToken cancellationToken)
    {
        whole ??= await store.GetAsync(jobId, cancellationToken);
        if (whole is null)
        {
            return null;
        }

        var files = whole.Files.ToBuilder();
        foreach (var file in written)
        {
            files[file.Index] = file;
        }

        return JobDocuments.ToResults(whole with { Files = files.ToImmutable() });
    }

    // What a decision is made on; Fetched is every file the read brought, kept for the next changes.
    private sealed record Read(JobHeader Header, DownloadFile? File, DownloadJob? Whole, IReadOnlyList<DownloadFile>? Fetched = null)
    {
        public IReadOnlyList<DownloadFile> Fetched { get; } = Fetched ?? (File is null ? [] : [File]);
    }
}
