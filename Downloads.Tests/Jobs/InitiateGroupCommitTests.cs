using Downloads.Jobs;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Telemetry;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.InMemory;
using Hangfire.States;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Downloads.Tests.Jobs;

/// <summary>
/// A commit completes once its job is stored, without waiting for its run's enqueue; the jobs stored while an enqueue
/// is in flight share the next one; none is enqueued while a run of the process waits for jobs; disposing still enqueues
/// the run of every job stored.
/// </summary>
public sealed class InitiateGroupCommitTests : IDisposable
{
    private readonly GatedClient _client = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly InMemoryStorage _hangfire = new();
    private readonly BackgroundJobQueue _queue;
    private readonly IdleRunSlot _idleRuns = new();
    private readonly InitiateGroupCommit _commit;

    public InitiateGroupCommitTests()
    {
        var processing = Options.Create(new ProcessingOptions { EnqueueThreads = 1 });
        _queue = new BackgroundJobQueue(_client, processing);
        _commit = new InitiateGroupCommit(
            new InMemoryJobStore(TimeProvider.System, Options.Create(new RetentionOptions())),
            _queue,
            _idleRuns,
            new DownloadsMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _hangfire),
            processing,
            NullLogger<InitiateGroupCommit>.Instance);
    }

    [Fact]
    public async Task A_commit_completes_while_the_enqueue_of_its_run_is_still_in_flight()
    {
        var job = NewJob();

        await _commit.CommitAsync(job).DefaultTimeout();

        (await _client.Entered.Task.DefaultTimeout()).Should().Equal([job.Id]);
        _client.Enqueued.Should().BeEmpty("the enqueue has not returned yet");
    }

    [Fact]
    public async Task Jobs_stored_while_an_enqueue_is_in_flight_share_the_next_one()
    {
        var (first, later) = await StoreWhileTheFirstEnqueueHangsAsync();

        _client.Release();

        await WaitForEnqueuesAsync(2);
        _client.Enqueued.Should().BeEquivalentTo(new[] { [first.Id], later }, o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task No_run_is_enqueued_for_jobs_stored_while_a_run_of_the_process_waits_for_them()
    {
        _client.Release();
        _idleRuns.TryTake().Should().BeTrue();

        await _commit.CommitAsync(NewJob()).DefaultTimeout();
        _commit.Dispose(); // drains the dispatcher while the run still waits

        _client.Enqueued.Should().BeEmpty("the waiting run takes the job from the ready ring");
    }

    [Fact]
    public async Task Disposing_still_enqueues_the_run_of_every_job_it_stored()
    {
        var (first, later) = await StoreWhileTheFirstEnqueueHangsAsync();

        var disposing = Task.Run(_commit.Dispose);
        _client.Release();
        await disposing.DefaultTimeout();

        _client.Enqueued.Should().BeEquivalentTo(new[] { [first.Id], later }, o => o.WithStrictOrdering());
    }

    public void Dispose()
    {
        _client.Release();
        _commit.Dispose();
        _queue.Dispose();
        _hangfire.Dispose();
        _services.Dispose();
    }

    // A first job whose run's enqueue hangs, then two more in separate store writes (each awaited) meanwhile.
    private async Task<(DownloadJob First, Guid[] Later)> StoreWhileTheFirstEnqueueHangsAsync()
    {
        var (first, second, third) = (NewJob(), NewJob(), NewJob());
        await _commit.CommitAsync(first).DefaultTimeout();
        await _client.Entered.Task.DefaultTimeout();
        await _commit.CommitAsync(second).DefaultTimeout();
        await _commit.CommitAsync(third).DefaultTimeout();
        return (first, [second.Id, third.Id]);
    }

    private async Task WaitForEnqueuesAsync(int count)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (_client.Enqueued.Count < count)
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    private static DownloadJob NewJob() =>
        DownloadJob.Create(DownloadJobCommands.NewJobId(), [70000], null, "http://localhost", TimeProvider.System.GetUtcNow());

    /// <summary>Hangfire's client over a slow storage: every enqueue takes a while, and none returns before the test releases it.</summary>
    private sealed class GatedClient : IBackgroundJobClient
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<Guid[]> Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public System.Collections.Concurrent.ConcurrentQueue<Guid[]> Enqueued { get; } = new();

        public void Release() => _released.TrySetResult();

        public string Create(Job job, IState state)
        {
            var jobIds = job.Args.OfType<Guid[]>().Single();
            Entered.TrySetResult(jobIds);
            _released.Task.Wait();
            Thread.Sleep(50);
            Enqueued.Enqueue(jobIds);
            return Guid.NewGuid().ToString();
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => false;
    }
}
