using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>
/// A run with nothing left to do waits a little (<c>Downloads:Processing:IdleLinger</c>) and starts the jobs stored
/// meanwhile itself, without a Hangfire dispatch. Shown by refusing every run after the first: with a sweeper minutes
/// away, only the waiting run can start the second job.
/// </summary>
public sealed class IdleRunTests
{
    [Fact]
    public async Task A_job_stored_while_a_run_waits_is_started_by_that_run_in_memory()
    {
        var hangfire = new SwitchableBackgroundJobClient();
        await using var app = WithWaitingRuns(new DownloadsApplication()).WithServices(hangfire.Register);

        await AssertTheWaitingRunStartsTheSecondJobAsync(new DownloadsApi(app.CreateApiClient()), hangfire);
    }

    [Fact]
    public async Task A_job_stored_on_an_API_node_while_a_worker_s_run_waits_is_started_by_that_run()
    {
        var hangfire = new SwitchableBackgroundJobClient();
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var api = deployment.Node("api", app => WithWaitingRuns(app).WithServices(hangfire.Register));
        deployment.Node("worker", app => WithWaitingRuns(app));

        await AssertTheWaitingRunStartsTheSecondJobAsync(new DownloadsApi(api.CreateApiClient()), hangfire);
    }

    private static async Task AssertTheWaitingRunStartsTheSecondJobAsync(DownloadsApi api, SwitchableBackgroundJobClient hangfire)
    {
        var first = await api.InitiateAsync([70000]);
        (await api.WaitForEndAsync(first.JobId)).Status.Should().Be(JobStatus.Completed);

        // From now on Hangfire creates no run (a node that runs jobs itself does not even ask while its run waits).
        hangfire.Refuse = true;
        var second = await api.InitiateAsync([70007]);

        var ended = await api.WaitForEndAsync(second.JobId, TimeSpan.FromSeconds(15));
        ended.Status.Should().Be(JobStatus.Completed, "the run that finished the first job was still waiting, and took it");
    }

    // Zero delay, a run that waits long enough for a loaded machine, and a sweeper that would come too late.
    private static DownloadsApplication WithWaitingRuns(DownloadsApplication app) => app
        .With("Downloads:Processing:DelayMinMs", "0")
        .With("Downloads:Processing:DelayMaxMs", "0")
        .With("Downloads:Processing:IdleLinger", "00:00:20")
        .With("Downloads:Processing:RunBudget", "00:00:30")
        .With("Downloads:Recovery:LeaseDuration", "00:05:00")
        .With("Downloads:Recovery:SweepInterval", "00:05:00");
}
