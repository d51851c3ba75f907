using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Downloads.Tests.Realtime;

/// <summary>Every transport over both hub paths (<c>true</c>: <c>/ws/download/{job_id}</c>).</summary>
public static class HubTransportCases
{
    public static TheoryData<HttpTransportType, bool> TransportsAndPaths => new()
    {
        { HttpTransportType.WebSockets, true },
        { HttpTransportType.ServerSentEvents, true },
        { HttpTransportType.LongPolling, true },
        { HttpTransportType.WebSockets, false },
        { HttpTransportType.ServerSentEvents, false },
        { HttpTransportType.LongPolling, false },
    };
}

/// <summary>
/// Files slow enough (1 s each, one at a time) that a client on any transport has subscribed before the job ends,
/// even on a loaded machine: with the default 150–300 ms files a slow connect met a job already over, and a
/// terminal snapshot instead of the terminal event.
/// </summary>
public class HubTransportApplication : DownloadsApplication
{
    public HubTransportApplication()
    {
        With("Downloads:Processing:DelayMinMs", "1000");
        With("Downloads:Processing:DelayMaxMs", "1000");
        With("Downloads:Processing:MaxParallelFilesPerJob", "1");
    }
}

/// <summary>The same files in Redis mode, on the shared test Redis with a prefix of its own.</summary>
public sealed class RedisHubTransportApplication : HubTransportApplication
{
    public RedisHubTransportApplication()
    {
        WithRedis(RedisServer.Shared.GetAwaiter().GetResult(), RedisServer.NewKeyPrefix());
    }
}

/// <summary>In one process, all in memory.</summary>
public sealed class InMemoryHubTransportTests(HubTransportApplication app) : HubTransportTests<HubTransportApplication>(app);

/// <summary>In Redis mode: job state in Redis, events through the commit's PUBLISH and the SignalR backplane.</summary>
public sealed class RedisHubTransportTests(RedisHubTransportApplication app) : HubTransportTests<RedisHubTransportApplication>(app);

/// <summary>
/// A real SignalR .NET client, forced onto each transport, follows a 3-file job (70000 and 70007 exist,
/// 70001 does not) from snapshot to terminal event, over both hub paths. Every mode runs the same tests.
/// </summary>
public abstract class HubTransportTests<TApplication> : IClassFixture<TApplication>
    where TApplication : DownloadsApplication
{
    private readonly DownloadsApplication _app;
    private readonly DownloadsApi _api;

    protected HubTransportTests(TApplication app)
    {
        _app = app;
        _api = new DownloadsApi(app.CreateApiClient());
    }

    [Theory]
    [MemberData(nameof(HubTransportCases.TransportsAndPaths), MemberType = typeof(HubTransportCases))]
    public async Task A_client_follows_a_job_from_snapshot_to_terminal_event(HttpTransportType transport, bool jobPath)
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        await using var client = jobPath
            ? await JobEventRecorder.FollowAsync(_app.BaseAddress, job.JobId, transport)
            : await JobEventRecorder.SubscribeAsync(_app.BaseAddress, job.JobId, transport);

        var terminal = await client.WaitForTerminalAsync();

        client.Received[0].Type.Should().Be(JobEventType.Snapshot, "the first message of a subscription is the snapshot");
        client.Applied.Select(e => e.Seq).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        terminal.Type.Should().Be(JobEventType.Completed);
        terminal.Results.Should().NotBeNull();
        terminal.Results!.Select(r => (r.FileId, r.Status)).Should().Equal(
            (70000, FileStatus.Completed), (70007, FileStatus.Completed), (70001, FileStatus.Failed));
        terminal.Results![2].ErrorCode.Should().Be("not_found");
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task Events_arrive_without_gaps_in_seq(HttpTransportType transport)
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        await using var client = await JobEventRecorder.FollowAsync(_app.BaseAddress, job.JobId, transport);

        await client.WaitForTerminalAsync();

        var seqs = client.Applied.Select(e => e.Seq).ToList();
        seqs.Should().Equal(Enumerable.Range((int)seqs[0], seqs.Count).Select(i => (long)i),
            "one process publishes a job's events in seq order");
    }

    [Fact]
    public async Task A_late_subscriber_gets_the_terminal_snapshot()
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        var ended = await _api.WaitForEndAsync(job.JobId);

        await using var client = await JobEventRecorder.FollowAsync(_app.BaseAddress, job.JobId, HttpTransportType.WebSockets);
        var terminal = await client.WaitForTerminalAsync();

        terminal.Type.Should().Be(JobEventType.Snapshot);
        terminal.Seq.Should().Be(ended.Seq);
        terminal.Results.Should().HaveCount(3);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task Connecting_to_an_unknown_job_closes_with_job_not_found(HttpTransportType transport)
    {
        var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, $"/ws/download/{Guid.NewGuid()}"), transport);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += error => { closed.TrySetResult(error); return Task.CompletedTask; };
        await using (connection)
        {
            await connection.StartAsync().DefaultTimeout();

            var error = await closed.Task.DefaultTimeout();

            error.Should().NotBeNull();
            error!.Message.Should().Contain("job not found");
        }
    }

    [Fact]
    public async Task Subscribe_to_an_unknown_job_is_a_hub_error()
    {
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets);
        await connection.StartAsync().DefaultTimeout();

        var subscribe = () => connection.InvokeAsync("Subscribe", Guid.NewGuid().ToString()).DefaultTimeout();

        (await subscribe.Should().ThrowAsync<HubException>()).Which.Message.Should().Contain("job not found");
    }

    [Fact]
    public async Task One_connection_follows_several_jobs_and_unsubscribes()
    {
        var first = await _api.InitiateAsync([70014]);
        var second = await _api.InitiateAsync([70021]);
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets);
        var seen = new System.Collections.Concurrent.ConcurrentBag<JobEvent>();
        var bothEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<JobEvent>("update", e =>
        {
            seen.Add(e);
            if (seen.Where(x => x.Status.IsTerminal()).Select(x => x.JobId).Distinct().Count() == 2)
            {
                bothEnded.TrySetResult();
            }
        });
        await connection.StartAsync().DefaultTimeout();

        await connection.InvokeAsync("Subscribe", first.JobId.ToString()).DefaultTimeout();
        await connection.InvokeAsync("Subscribe", second.JobId.ToString()).DefaultTimeout();
        await bothEnded.Task.DefaultTimeout();

        seen.Select(e => e.JobId).Distinct().Should().BeEquivalentTo([first.JobId, second.JobId]);
    }
}
