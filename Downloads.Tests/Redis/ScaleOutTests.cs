using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.Hosting;

namespace Downloads.Tests.Redis;

/// <summary>
/// API nodes and worker nodes in separate hosts, one Redis between them: a job initiated on any node is
/// processed by any worker and followed on any node, over every channel.
/// </summary>
public sealed class ScaleOutTests
{
    private static readonly long[] TwelveExistingFiles = [.. Enumerable.Range(0, 12).Select(i => 70000L + (7 * i))];

    [Fact]
    public async Task Initiate_on_one_node_is_followed_on_another()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            .With("Downloads:Processing:DelayMinMs", "300")
            .With("Downloads:Processing:DelayMaxMs", "500")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "2");
        var nodeA = deployment.Node("api");
        var nodeB = deployment.Node("api");
        deployment.Node("worker");
        var apiA = new DownloadsApi(nodeA.CreateApiClient());
        var apiB = new DownloadsApi(nodeB.CreateApiClient());

        var job = await apiA.InitiateAsync([70000, 70007, 70014, 70001]);
        await using var onB = await JobEventRecorder.FollowAsync(nodeB.BaseAddress, job.JobId, HttpTransportType.WebSockets);
        await using var onA = await JobEventRecorder.FollowAsync(nodeA.BaseAddress, job.JobId, HttpTransportType.LongPolling);
        var sseOnB = ReadServerSentEventsAsync(apiB.Http, job.JobId);

        var terminalOnB = await onB.WaitForTerminalAsync();
        var terminalOnA = await onA.WaitForTerminalAsync();
        var sseSeqs = await sseOnB.DefaultTimeout();

        var ended = await apiB.StatusAsync(job.JobId);
        ended.Status.Should().Be(JobStatus.Completed);
        foreach (var terminal in new[] { terminalOnA, terminalOnB })
        {
            terminal.Type.Should().Be(JobEventType.Completed, "the worker's terminal event reaches every API node");
            terminal.Seq.Should().Be(ended.Seq);
        }

        foreach (var client in new[] { onA, onB })
        {
            // An event published while the connection was joining its group is covered by the fresh snapshot the
            // hub sends after the join: every applied event follows its predecessor, or is a snapshot.
            client.Applied.Zip(client.Applied.Skip(1)).Should().OnlyContain(
                pair => pair.Second.Seq == pair.First.Seq + 1 || (pair.Second.Type == JobEventType.Snapshot && pair.Second.Seq > pair.First.Seq),
                "the backplane keeps one sender's order");
        }

        sseSeqs.Should().Equal(Enumerable.Range((int)sseSeqs[0], sseSeqs.Count).Select(i => (long)i), "SSE on any node reads the commit's PUBLISH");
        sseSeqs[^1].Should().Be(ended.Seq);
    }

    [Fact]
    public async Task Concurrent_workers_never_prepare_a_file_twice()
    {
        var opened = new ConcurrentDictionary<long, int>();
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            .With("Downloads:Processing:MaxParallelFilesPerJob", "6");
        var api = new DownloadsApi(deployment.Node("api").CreateApiClient());
        foreach (var _ in Enumerable.Range(0, 2))
        {
            deployment.Node("worker", app => app.WithServices(services =>
                services.AddSingleton<IFileStorage>(new CountingFileStorage(new SyntheticFileStorage(), opened))));
        }

        var job = await api.InitiateAsync(TwelveExistingFiles);
        var ended = await api.WaitForEndAsync(job.JobId);

        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.Attempts == 1);
        opened.Should().HaveCount(12).And.OnlyContain(pair => pair.Value == 1, "each file is prepared by one worker, once");
    }

    [Fact]
    public async Task Concurrent_idempotent_requests_on_two_nodes_create_one_job()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var nodes = new[] { deployment.Node("api").CreateApiClient(), deployment.Node("api").CreateApiClient() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
            {
                Content = JsonContent.Create(new InitiateDownloadRequest([70000, 70007], null), options: DownloadsApi.Json),
            };
            request.Headers.Add("Idempotency-Key", "scale-out-key");
            using var response = await nodes[i % 2].SendAsync(request).DefaultTimeout();
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            return (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!.JobId;
        }));

        responses.Distinct().Should().ContainSingle("one key, one job, whichever node answers");
    }

    [Fact]
    public async Task A_worker_serves_health_only_and_an_api_node_runs_no_jobs()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var api = deployment.Node("api");
        var worker = deployment.Node("worker");
        using var workerHttp = worker.CreateApiClient();

        (await workerHttp.GetAsync("/health").DefaultTimeout()).StatusCode.Should().Be(HttpStatusCode.OK);
        var ready = await new DownloadsApi(workerHttp).WaitUntilReadyAsync();
        ready.Should().Contain("\"redis\":{\"status\":\"healthy\"");
        (await workerHttp.GetAsync($"/v1/download/status/{Guid.NewGuid()}").DefaultTimeout()).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await workerHttp.PostAsync("/ws/download/negotiate?negotiateVersion=1", null).DefaultTimeout()).StatusCode.Should().Be(HttpStatusCode.NotFound);

        static int HangfireServers(DownloadsApplication node) =>
            node.Services.GetServices<IHostedService>().Count(s => s.GetType().Name.Contains("BackgroundJobServer", StringComparison.Ordinal));
        HangfireServers(api).Should().Be(0);
        HangfireServers(worker).Should().BePositive();
        api.Services.GetRequiredService<JobStorage>().GetMonitoringApi().Servers().Should().HaveCount(HangfireServers(worker), "only the worker runs Hangfire servers");
    }

    // The seq of every event of one SSE stream, to its end (the server ends it after the terminal event).
    private static async Task<List<long>> ReadServerSentEventsAsync(HttpClient http, Guid jobId)
    {
        using var response = await http.GetAsync($"/v1/download/events/{jobId}", HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seqs = new List<long>();
        while (await reader.ReadLineAsync().DefaultTimeout() is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                seqs.Add(long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return seqs;
    }
}
