using Downloads.Bench;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Bench;

/// <summary>
/// The bench's scenarios with tiny sizes against the real service (in this process), so the bench cannot rot:
/// each scenario must run to the end and produce figures. The figures themselves are not judged here.
/// </summary>
public sealed class BenchSmokeTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_in_memory_scenario_runs_and_reports()
    {
        // As bench/run.sh runs the service: no delay, and the per-client limits off (the load generator is one client).
        await using var app = new DownloadsApplication()
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0")
            .With("Downloads:RateLimiting:InitiatePerMinute", "0")
            .With("Downloads:RateLimiting:MaxActiveJobsPerClient", "0")
            .With("Downloads:RateLimiting:MaxActiveFilesPerClient", "0");
        var api = app.BaseAddress;
        using var cancel = new CancellationTokenSource(Budget);
        // One request first: on a loaded machine the cold path (JIT) alone can outlast the 1 s window.
        await new DownloadsApi(app.CreateApiClient()).InitiateAsync([70000]);

        var initiate = await Scenarios.InitiateAsync([("inmem", api)], [4], TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), 1, cancel.Token);
        initiate.Should().ContainSingle().Which.Should().Match<ResultRow>(r => r.Count > 0 && r.P99Ms > 0 && r.Extra["errors"] == 0);

        var firstProgress = await Scenarios.FirstProgressAsync(api, samples: 3, loadRps: 20, TimeSpan.FromSeconds(20), cancel.Token);
        firstProgress.Single().Count.Should().Be(3);

        var files = await Scenarios.FilesAsync(api, jobs: 4, filesPerJob: 3, cancel.Token);
        files.Single().Count.Should().Be(12);

        var drain = await Scenarios.DrainAsync(api, jobs: 6, callers: 3, cancel.Token);
        drain.Single().Should().Match<ResultRow>(r => r.Count == 6 && r.PerSecond > 0);

        var fairness = await Scenarios.FairnessAsync(api, bigFiles: 20, samples: 2, cancel.Token);
        fairness.Where(r => r.Scenario == "fairness").Should().HaveCount(2).And.OnlyContain(r => r.Count == 2);
        fairness.Should().ContainSingle(r => r.Scenario == "big-job").Which.Count.Should().Be(20);

        var connections = await Scenarios.ConnectionsAsync(api, Environment.ProcessId, count: 20, jobs: 2, TimeSpan.FromSeconds(20), cancel.Token);
        connections.Single().Count.Should().Be(20);

        var results = new ResultsFile { Rows = [.. initiate, .. firstProgress, .. files, .. drain, .. fairness, .. connections] };
        results.ToTable().Should().Contain("| initiate").And.Contain("| connections");
        ResultsFile.Compare(results, results).Should().Contain("| drain").And.Contain("1.00×");
    }

    [Fact]
    public async Task Backplane_scenario_runs_across_two_api_nodes_and_a_worker()
    {
        var redis = await RedisServer.Shared;
        await using var deployment = new RedisDeployment(redis)
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0");
        var api1 = deployment.Node("api");
        var api2 = deployment.Node("api");
        deployment.Node("worker");
        using var cancel = new CancellationTokenSource(Budget);

        var rows = await Scenarios.BackplaneAsync(
            api1.BaseAddress, api2.BaseAddress, redis.ConnectionString, api1.Settings["Downloads:Redis:KeyPrefix"]!,
            jobs: 4, filesPerJob: 3, eventsPerSecond: 200, cancel.Token);

        rows.Should().HaveCount(2).And.OnlyContain(r => r.Count > 0 && r.P50Ms >= 0);
    }
}
