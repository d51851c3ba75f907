using System.Diagnostics;
using System.Net;
using Downloads.Api.Operations;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit.Abstractions;

namespace Downloads.Tests.Redis;

/// <summary>
/// Redis restarts, empty (no persistence, or a failover to an empty replica) or with its data: every role is ready
/// again within 30 s, with its Hangfire servers listed, and a job started afterwards runs end to end. Real service
/// processes on a private redis-server.
/// </summary>
public sealed class RedisDataLossTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Api_and_worker_nodes_are_ready_again_and_run_a_new_job(bool redisKeepsItsData)
    {
        await using var redis = await RedisServer.StartPrivateAsync(durable: redisKeepsItsData);
        await using var deployment = new RedisDeployment(redis);
        var api = deployment.ProcessWithHttp("api");
        var worker = deployment.ProcessWithHttp("worker");
        using (api.Http)
        using (worker.Http)
        {
            await RecoverAsync(redis, api, worker);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_all_in_one_node_is_ready_again_and_runs_a_new_job(bool redisKeepsItsData)
    {
        await using var redis = await RedisServer.StartPrivateAsync(durable: redisKeepsItsData);
        await using var deployment = new RedisDeployment(redis);
        var node = deployment.ProcessWithHttp("all");
        using (node.Http)
        {
            await RecoverAsync(redis, node);
        }
    }

    [Fact]
    public async Task An_api_node_without_any_worker_is_degraded_but_ready()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        using var http = deployment.Node("api").CreateApiClient();

        using var response = await http.GetAsync("/health/ready").DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        body.Should().Contain("\"hangfire\":{\"status\":\"degraded\"").And.Contain("wait for a worker");
    }

    [Fact]
    public void A_worker_whose_own_server_is_not_listed_is_not_ready()
    {
        var decision = HangfireHealthCheck.Decide(aliveInCluster: 3, listed: new HashSet<string> { "other:1" }, localServers: ["me:1"]);

        decision.Status.Should().Be(HealthStatus.Unhealthy, "other workers being alive does not make this one work");
    }

    [Fact]
    public void A_worker_whose_servers_are_all_listed_is_ready()
    {
        var decision = HangfireHealthCheck.Decide(aliveInCluster: 2, listed: new HashSet<string> { "me:1", "me:2" }, localServers: ["me:1", "me:2"]);

        decision.Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public void A_worker_whose_servers_have_not_started_is_not_ready()
    {
        HangfireHealthCheck.Decide(aliveInCluster: 0, listed: new HashSet<string>(), localServers: []).Status.Should().Be(HealthStatus.Unhealthy);
    }

    // Every node ready with Hangfire healthy; Redis restarted; every node so again within the bound; then a job
    // through the first node (one that serves the API). What the processes wrote goes to the output on a failure.
    private async Task RecoverAsync(RedisServer redis, params (ServiceProcess Process, HttpClient Http)[] nodes)
    {
        try
        {
            foreach (var (process, http) in nodes)
            {
                await process.WaitUntilHealthyAsync(http);
                await WaitUntilHangfireHealthyAsync(http, TestTimeouts.Default);
            }

            await RestartAsync(redis);
            var clock = Stopwatch.StartNew();
            foreach (var (_, http) in nodes)
            {
                await WaitUntilHangfireHealthyAsync(http, ReadyBound - clock.Elapsed);
            }

            output.WriteLine($"every node ready {clock.Elapsed.TotalSeconds:0.0} s after Redis restarted");
            await RunsAJobAsync(new DownloadsApi(nodes[0].Http));
        }
        catch
        {
            foreach (var (process, _) in nodes)
            {
                output.WriteLine($"--- process {process.Id}:\n{process.Output}");
            }

            throw;
        }
    }

    // Killed and started again on the same port: empty, or with its append-only file.
    private static async Task RestartAsync(RedisServer redis)
    {
        await redis.StopAsync();
        await redis.StartAsync();
    }

    private static async Task RunsAJobAsync(DownloadsApi api)
    {
        var job = await api.InitiateAsync([70000, 70007]);
        (await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60))).Status.Should().Be(JobStatus.Completed);
    }

    // Ready (200) with Hangfire healthy: on an API node "degraded" (no worker alive) is 200 too, and not enough here.
    private static async Task WaitUntilHangfireHealthyAsync(HttpClient http, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var last = "";
        try
        {
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync("/health/ready", deadline.Token);
                    last = await response.Content.ReadAsStringAsync(deadline.Token);
                    if (response.StatusCode == HttpStatusCode.OK && last.Contains("\"hangfire\":{\"status\":\"healthy\"", StringComparison.Ordinal))
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not answering yet
                }

                await Task.Delay(200, deadline.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{http.BaseAddress} not ready with Hangfire healthy within {timeout.TotalSeconds:0} s; last answer: {last}");
        }
    }
}
