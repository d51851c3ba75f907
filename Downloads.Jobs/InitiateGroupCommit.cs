using System.Threading.Channels;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs;

/// <summary>
/// Group commit of new jobs: initiates that arrive while a store write is in flight go together in the next one, which
/// stores all their jobs in one round trip. A request completes (the API answers 202) once its job is stored: the
/// same write puts the job in the ready ring, which runs take files from, and the recovery sweeper
/// (<c>Recovery/RecoverySweeper</c>) enqueues a run whenever the ring holds jobs that no live run serves, so a stored
/// job is never left without one. The run is enqueued after the answer, off the request path, and coalesced the same
/// way: the jobs stored while an enqueue is in flight go in the next one (one Hangfire job for all), so there is at
/// most one run per write. An enqueue that fails is logged and counted; its jobs wait in the ring for the sweeper
/// (<c>Downloads:Recovery:SweepInterval</c>). A store write that fails fails every request of its batch (the API
/// answers 503) and what it may have partly stored is forgotten, so nothing unacknowledged is left to run.
/// </summary>
public sealed partial class InitiateGroupCommit : IDisposable
{
    private static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(5);

    private readonly IJobStore _store;
    private readonly BackgroundJobQueue _backgroundJobs;
    private readonly IdleRunSlot _idleRuns;
    private readonly DownloadsMetrics _metrics;
    private readonly ILogger<InitiateGroupCommit> _logger;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Guid> _stored = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _writer;
    private readonly Task _dispatcher;

    public InitiateGroupCommit(
        IJobStore store,
        BackgroundJobQueue backgroundJobs,
        IdleRunSlot idleRuns,
        DownloadsMetrics metrics,
        IOptions<ProcessingOptions> options,
        ILogger<InitiateGroupCommit> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _backgroundJobs = backgroundJobs;
        _idleRuns = idleRuns;
        _metrics = metrics;
        _logger = logger;
        var maxBatch = options.Value.MaxInitiateBatch;
        _writer = Task.Run(() => InBatchesAsync(_pending.Reader, maxBatch, StoreAsync));
        _dispatcher = Task.Run(() => InBatchesAsync(_stored.Reader, maxBatch, DispatchAsync));
    }

    /// <summary>
    /// Stores <paramref name="job"/>, with whatever other jobs are waiting; completes once it is stored, and its run is
    /// enqueued soon after. Fails when the store write fails, and then the job is not kept.
    /// </summary>
    public Task CommitAsync(DownloadJob job)
    {
        var pending = new Pending(job, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!_pending.Writer.TryWrite(pending), this);

        return pending.Done.Task;
    }

    /// <summary>
    /// Has a run enqueued, the same way, for a stored job that joined the ready ring again (a resume): the change is
    /// the record, so the caller answers without waiting for Hangfire.
    /// </summary>
    public void Dispatch(Guid jobId) => _stored.Writer.TryWrite(jobId);

    public void Dispose()
    {
        // Jobs already handed over are still stored, and stored jobs still get their enqueue attempt; each loop ends
        // when its channel is drained.
        _pending.Writer.TryComplete();
        _writer.Wait(DrainBound);
        _stored.Writer.TryComplete();
        _dispatcher.Wait(DrainBound);
    }

    // One batch in flight at a time: what arrives meanwhile waits in the channel and makes the next batch.
    private static async Task InBatchesAsync<T>(ChannelReader<T> reader, int maxBatch, Func<List<T>, Task> handle)
    {
        var batch = new List<T>(maxBatch);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < maxBatch && reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            await handle(batch);
        }
    }

    private async Task StoreAsync(List<Pending> batch)
    {
        DownloadJob[] jobs = [.. batch.Select(p => p.Job)];
        try
        {
            await _store.CreateManyAsync(jobs, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store is down: answer at once, then forget what part of the pipeline may have stored (a pipeline is
            // not a transaction). Forgetting waits for Redis too, and nothing of the batch was acknowledged either way.
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }

            await ForgetAsync(jobs);
            return;
        }

        // Handed to the dispatcher before the answers, so a shutdown that follows still enqueues their run. Refused
        // only once disposing has given up waiting: the jobs are in the ring all the same.
        foreach (var job in jobs)
        {
            _stored.Writer.TryWrite(job.Id);
        }

        foreach (var pending in batch)
        {
            pending.Done.TrySetResult();
        }
    }

    // The jobs are stored and acknowledged: a failure here only delays them until the sweeper enqueues a run.
    private async Task DispatchAsync(List<Guid> jobIds)
    {
        // A run of this process waits for new jobs: it takes these from the ring, and looks at the ring once more
        // when it stops waiting (see DownloadRun), so no job is left behind. A run enqueued now would only compete
        // with it for the CPU (Hangfire wakes every idle worker for each run).
        if (_idleRuns.Taken)
        {
            return;
        }

        try
        {
            await DownloadRun.EnqueueAsync(_backgroundJobs, jobIds);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _metrics.RedisError("run_enqueue");
            LogEnqueueFailed(_logger, ex, jobIds.Count);
        }
    }

    // Best effort: with Redis down this fails too, and the failure that led here is the one the callers see.
    private async Task ForgetAsync(DownloadJob[] jobs)
    {
        try
        {
            await _store.DeleteAsync([.. jobs.Select(j => j.Id)], CancellationToken.None);
        }
        catch (JobStoreUnavailableException ex)
        {
            LogCleanupFailed(_logger, ex, jobs.Length);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} job(s) could not be stored nor forgotten; what was written of them stays, unacknowledged, and may still run")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The run of {Count} stored job(s) could not be enqueued; they wait in the ready ring until the recovery sweeper enqueues one")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception, int count);

    private sealed record Pending(DownloadJob Job, TaskCompletionSource Done);
}
