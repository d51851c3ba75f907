using System.Collections.Concurrent;
using Downloads.Contracts;
using Downloads.Jobs.Processing;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Downloads.Tests.Redis;

/// <summary>Concurrent initiates share their writes: fewer runs (Hangfire jobs) than jobs, and every job still runs.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Concurrent_initiates_are_dispatched_by_fewer_runs_than_jobs_and_all_end()
    {
        const int initiates = 40;
        var created = new ConcurrentQueue<Job>();
        await using var app = new RedisDownloadsApplication();
        app.WithServices(services =>
        {
            services.RemoveAll<IBackgroundJobClient>();
            services.AddSingleton<IBackgroundJobClient>(sp => new RecordingClient(new BackgroundJobClient(sp.GetRequiredService<JobStorage>()), created));
        });
        var api = new DownloadsApi(app.CreateApiClient());

        var jobs = await Task.WhenAll(Enumerable.Range(0, initiates).Select(_ => api.InitiateAsync([70000])));
        // Runs are enqueued after the answers: the first runs that name every job (successors come only after RunBudget).
        var dispatching = await RunsNamingAsync(created, [.. jobs.Select(j => j.JobId)]);
        var ended = await Task.WhenAll(jobs.Select(j => api.WaitForEndAsync(j.JobId, TimeSpan.FromSeconds(60))));

        ended.Should().OnlyContain(s => s.Status == JobStatus.Completed);
        dispatching.Should().HaveCountLessThan(initiates / 2, "initiates that arrive while a write is in flight share the next one");
        dispatching.SelectMany(r => (Guid[])r.Args[0]).Should().BeEquivalentTo(jobs.Select(j => j.JobId), "each job is dispatched by exactly one run");
    }

    private static async Task<List<Job>> RunsNamingAsync(ConcurrentQueue<Job> created, Guid[] jobIds)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            var runs = created.Where(j => j.Type == typeof(DownloadRun)).ToList();
            if (!jobIds.Except(runs.SelectMany(r => (Guid[])r.Args[0])).Any())
            {
                return runs;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    private sealed class RecordingClient(IBackgroundJobClient inner, ConcurrentQueue<Job> created) : IBackgroundJobClient
    {
        public string Create(Job job, IState state)
        {
            created.Enqueue(job);
            return inner.Create(job, state);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => inner.ChangeState(jobId, state, expectedState);
    }
}
