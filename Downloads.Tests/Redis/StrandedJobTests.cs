using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace Downloads.Tests.Redis;

/// <summary>
/// A job stored by an API node that died before it enqueued the job's run: nothing in Hangfire knows of it, and the
/// sweeper of an idle worker dispatches it.
/// </summary>
public sealed class StrandedJobTests
{
    [Fact]
    public async Task A_job_stored_but_never_enqueued_is_dispatched_by_the_sweeper()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0")
            .With("Downloads:Recovery:SweepInterval", "00:00:01");
        using var dying = new DyingBackgroundJobClient();
        var api = new DownloadsApi(deployment.Node("api", app => app.WithServices(services => services.AddSingleton<IBackgroundJobClient>(dying))).CreateApiClient());
        deployment.Node("worker");

        // The node "dies" between storing the job (the 202 is already answered) and enqueueing its run.
        var job = await api.InitiateAsync([70000, 70007, 70014]);
        (await dying.Enqueued.Task.DefaultTimeout()).Should().Equal([job.JobId]);

        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.Attempts == 1);
        dying.Returned.Should().BeFalse("the job was dispatched by the sweeper, not by the enqueue of the node that stored it");
    }

    /// <summary>Hangfire's client in a process that dies while it enqueues: it returns only when disposed, with a failure.</summary>
    private sealed class DyingBackgroundJobClient : IBackgroundJobClient, IDisposable
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<Guid[]> Enqueued { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Returned { get; private set; }

        public string Create(Job job, IState state)
        {
            Enqueued.TrySetResult(job.Args.OfType<Guid[]>().Single());
            _released.Task.Wait();
            Returned = true;
            throw new BackgroundJobClientException("The process died.", new InvalidOperationException());
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => false;

        public void Dispose() => _released.TrySetResult();
    }
}
