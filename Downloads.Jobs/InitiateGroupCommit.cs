using System.Threading.Channels;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs;

/// <summary>
/// Group commit of new jobs: initiates that arrive while a write is in flight go together in the next one, which
/// stores all their jobs in one round trip and enqueues one run (one Hangfire job) that serves them all. A request
/// is answered only once its job is stored and its run enqueued; when either fails, every job of the batch is
/// forgotten and every request of it fails (the API answers 503), so nothing unacknowledged is left to run.
/// </summary>
public sealed partial class InitiateGroupCommit : IDisposable
{
    private readonly IJobStore _store;
    private readonly BackgroundJobQueue _backgroundJobs;
    private readonly ILogger<InitiateGroupCommit> _logger;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public InitiateGroupCommit(IJobStore store, BackgroundJobQueue backgroundJobs, IOptions<ProcessingOptions> options, ILogger<InitiateGroupCommit> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _backgroundJobs = backgroundJobs;
        _logger = logger;
        _maxBatch = options.Value.MaxInitiateBatch;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Stores <paramref name="job"/> and enqueues its run, with whatever other jobs are waiting; completes when both are done.</summary>
    public Task CommitAsync(DownloadJob job)
    {
        var pending = new Pending(job, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!_pending.Writer.TryWrite(pending), this);

        return pending.Done.Task;
    }

    public void Dispose()
    {
        // Jobs already handed over are still written; the writer ends when the channel is drained.
        _pending.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(5));
    }

    // One write in flight at a time: what arrives meanwhile waits in the channel and makes the next batch.
    private async Task WriteAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _pending.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            await CommitBatchAsync(batch);
        }
    }

    private async Task CommitBatchAsync(List<Pending> batch)
    {
        DownloadJob[] jobs = [.. batch.Select(p => p.Job)];
        try
        {
            await _store.CreateManyAsync(jobs, CancellationToken.None);
            await DownloadRun.EnqueueAsync(_backgroundJobs, [.. jobs.Select(j => j.Id)]);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Some jobs of the batch may be stored (a pipeline is not a transaction): forget them all.
            await ForgetAsync(jobs);

            // Hangfire's storage refused the run (Redis down): the callers answer 503, like any store outage.
            var failure = ex is BackgroundJobClientException ? new JobStoreUnavailableException("The job queue is unavailable.", ex) : ex;
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(failure);
            }

            return;
        }

        foreach (var pending in batch)
        {
            pending.Done.TrySetResult();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} job(s) could not be started nor forgotten; they stay queued, unacknowledged and with no run")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, int count);

    private sealed record Pending(DownloadJob Job, TaskCompletionSource Done);
}
