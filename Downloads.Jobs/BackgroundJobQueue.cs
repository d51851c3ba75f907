using System.Collections.Concurrent;
using System.Linq.Expressions;
using Downloads.Jobs.Processing;
using Hangfire;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs;

/// <summary>
/// Enqueues Hangfire jobs on a few threads of its own; callers await the job id.
/// Hangfire's Redis storage calls Redis synchronously, and Redis replies are read on the thread pool: blocking
/// thread-pool threads on those calls starves the very threads that would complete them. Measured on 2 cores
/// (bench/README.md): initiate in Redis mode fell from ~560 req/s at 1 connection to ~1 req/s with 2 s timeouts
/// (503) at 8. Here the blocking calls occupy only these threads. Initiates do not wait for them (a stored job is
/// already in the ready ring, see <see cref="InitiateGroupCommit"/>); a resume still answers only once its run is enqueued.
/// </summary>
public sealed class BackgroundJobQueue : IDisposable
{
    private readonly IBackgroundJobClient _client;
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread[] _threads;

    public BackgroundJobQueue(IBackgroundJobClient client, IOptions<ProcessingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _threads = new Thread[options.Value.EnqueueThreads];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"hangfire-enqueue-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Enqueues <paramref name="call"/>; fails like <see cref="IBackgroundJobClient"/> does (e.g. <see cref="BackgroundJobClientException"/>).</summary>
    public Task<string> EnqueueAsync<T>(Expression<Func<T, Task>> call)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(_client.Enqueue(call));
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task;
    }

    public void Dispose()
    {
        // Enqueues already handed over still run; the threads end when the work is done.
        _work.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _work.Dispose();
    }

    private void Run()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
