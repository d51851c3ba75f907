using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Downloads.Tests.Realtime;

/// <summary>
/// Slow files (one at a time, ~2 s each) to disconnect from mid-job, and the transports the hub saw. Reading a
/// job's event log takes a while, as on a loaded Redis: events recorded meanwhile must neither overtake the
/// replay nor go missing.
/// </summary>
public class HubReplayApplication : SlowJobsApplication
{
    public static readonly TimeSpan EventLogReadTime = TimeSpan.FromMilliseconds(300);

    public HubReplayApplication()
    {
        Transports.AddTo(this);
        WithServices(services => SlowEventLogReads.Decorate(services, EventLogReadTime));
    }

    public HubTransportRecorder Transports { get; } = new();
}

/// <summary>
/// Wraps the service's <see cref="IJobStore"/> so that every read of a job's event log waits first and, where asked,
/// every read of a whole job waits after reading (its answer is that old when it arrives, as over a slow link).
/// </summary>
public static class SlowEventLogReads
{
    public static void Decorate(IServiceCollection services, TimeSpan delay, TimeSpan? jobReadDelay = null) =>
        JobStoreDecorator.Decorate(services, (method, args, call) => method.Name switch
        {
            nameof(IJobStore.GetEventsAfterAsync) => DelayedAsync(delay, call, (CancellationToken)args[2]!),
            nameof(IJobStore.GetAsync) when jobReadDelay > TimeSpan.Zero => StaleAsync(jobReadDelay.Value, call, (CancellationToken)args[1]!),
            _ => call(),
        });

    private static async Task<IReadOnlyList<JobEvent>?> DelayedAsync(TimeSpan delay, Func<object?> read, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken);
        return await (Task<IReadOnlyList<JobEvent>?>)read()!;
    }

    private static async Task<DownloadJob?> StaleAsync(TimeSpan age, Func<object?> read, CancellationToken cancellationToken)
    {
        var job = await (Task<DownloadJob?>)read()!;
        await Task.Delay(age, cancellationToken);
        return job;
    }
}

/// <summary>The same in Redis mode, on the shared test Redis with a prefix of its own.</summary>
public sealed class RedisHubReplayApplication : HubReplayApplication
{
    public RedisHubReplayApplication() => WithRedis(RedisServer.Shared.GetAwaiter().GetResult(), RedisServer.NewKeyPrefix());
}

/// <summary>In one process, all in memory.</summary>
public sealed class InMemoryHubReplayTests(HubReplayApplication app) : HubReplayTests<HubReplayApplication>(app);

/// <summary>In Redis mode: the log in Redis, live events through the commit's PUBLISH.</summary>
public sealed class RedisHubReplayTests(RedisHubReplayApplication app) : HubReplayTests<RedisHubReplayApplication>(app);

/// <summary>
/// Replay on reconnect: a client that drops mid-job and comes back with the last seq it has (<c>SubscribeFrom</c> or
/// <c>?last_seq=</c>) receives exactly the events it missed, then the rest, as SSE does with <c>Last-Event-ID</c>.
/// </summary>
public abstract class HubReplayTests<TApplication> : IClassFixture<TApplication>
    where TApplication : HubReplayApplication
{
    private static readonly long[] Files = [70000, 70007, 70014];

    private readonly HubReplayApplication _app;
    private readonly DownloadsApi _api;

    protected HubReplayTests(TApplication app)
    {
        _app = app;
        _api = new DownloadsApi(app.CreateApiClient());
    }

    [Theory]
    [MemberData(nameof(HubTransportCases.TransportsAndPaths), MemberType = typeof(HubTransportCases))]
    public async Task A_client_that_reconnects_with_its_last_seq_receives_exactly_the_events_it_missed(HttpTransportType transport, bool jobPath)
    {
        var job = await _api.InitiateAsync(Files);
        long lastSeq;
        await using (var first = await JobEventRecorder.SubscribeAsync(_app.BaseAddress, job.JobId, transport))
        {
            lastSeq = (await first.WaitForAsync(e => e.File is { Status: FileStatus.Completed })).Seq;
        }

        // Events recorded while the client is away: the ones it must get back.
        var moved = await _api.WaitForAsync(job.JobId, s => s.Seq >= lastSeq + 3);
        moved.Status.IsTerminal().Should().BeFalse("the client must come back mid-job to also follow it live");
        await using var second = await JobEventRecorder.ResumeAsync(_app.BaseAddress, job.JobId, lastSeq, transport, jobPath);
        var terminal = await second.WaitForTerminalAsync();

        var seqs = second.Received.Select(e => e.Seq).ToList();
        seqs.Should().Equal(Enumerable.Range((int)lastSeq + 1, (int)(terminal.Seq - lastSeq)).Select(i => (long)i),
            "the missed events, then the live ones, each once and in order");
        second.Received.Should().NotContain(e => e.Type == JobEventType.Snapshot, "the log still holds what was missed");
        second.Resyncs.Should().Be(0);
        terminal.Type.Should().Be(JobEventType.Completed);
        _app.Transports.Transports.TakeLast(2).Should().AllBeEquivalentTo(transport, "the client was forced onto this transport");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_last_seq_older_than_the_log_gets_a_snapshot(bool jobPath)
    {
        var job = await _api.InitiateAsync([70000]);
        var ended = await _api.WaitForEndAsync(job.JobId);

        // Seq 1 (the job's creation) is never in the log: nothing after 0 can be replayed.
        await using var client = await JobEventRecorder.ResumeAsync(_app.BaseAddress, job.JobId, 0, HttpTransportType.WebSockets, jobPath);
        var terminal = await client.WaitForTerminalAsync();

        terminal.Type.Should().Be(JobEventType.Snapshot);
        terminal.Seq.Should().Be(ended.Seq);
        client.Received.Should().ContainSingle();
    }

    [Fact]
    public async Task Replays_started_while_events_flow_have_no_gap()
    {
        var job = await _api.InitiateAsync(Files);
        var clients = new List<JobEventRecorder>();
        try
        {
            // Resume at many moments of a running job, each from a seq a little behind: events keep being recorded
            // while the log is read, and each client must still see one unbroken run of seqs.
            for (var i = 0; i < 12; i++)
            {
                var status = await _api.StatusAsync(job.JobId);
                if (status.Status.IsTerminal())
                {
                    break;
                }

                clients.Add(await JobEventRecorder.ResumeAsync(
                    _app.BaseAddress, job.JobId, Math.Max(2, status.Seq - 2), HttpTransportType.WebSockets, jobPath: i % 2 == 0));
                await Task.Delay(150);
            }

            clients.Should().HaveCountGreaterThan(3, "the job runs for seconds");
            foreach (var client in clients)
            {
                var terminal = await client.WaitForTerminalAsync();
                var seqs = client.Received.Select(e => e.Seq).ToList();
                seqs.Should().Equal(Enumerable.Range((int)seqs[0], (int)(terminal.Seq - seqs[0] + 1)).Select(i => (long)i));
                client.Resyncs.Should().Be(0);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task SubscribeFrom_a_negative_seq_is_a_hub_error()
    {
        var job = await _api.InitiateAsync([70000]);
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets);
        await connection.StartAsync().DefaultTimeout();

        var subscribe = () => connection.InvokeAsync("SubscribeFrom", job.JobId.ToString(), -1L).DefaultTimeout();

        (await subscribe.Should().ThrowAsync<HubException>()).Which.Message.Should().Contain("invalid last_seq");
    }

    [Fact]
    public async Task SubscribeFrom_an_unknown_job_is_a_hub_error()
    {
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets);
        await connection.StartAsync().DefaultTimeout();

        var subscribe = () => connection.InvokeAsync("SubscribeFrom", Guid.NewGuid().ToString(), 3L).DefaultTimeout();

        (await subscribe.Should().ThrowAsync<HubException>()).Which.Message.Should().Contain("job not found");
    }

    [Fact]
    public async Task After_Unsubscribe_a_replaying_connection_receives_nothing_more()
    {
        var job = await _api.InitiateAsync(Files);
        var from = (await _api.StatusAsync(job.JobId)).Seq;
        await using var client = await JobEventRecorder.ResumeAsync(_app.BaseAddress, job.JobId, from, HttpTransportType.WebSockets, jobPath: false);
        await client.WaitForAsync(e => e.Seq > from);

        await client.Connection.InvokeAsync("Unsubscribe", job.JobId.ToString()).DefaultTimeout();
        // An update already on its way when the call returned may still land.
        await Task.Delay(200);
        var count = client.Received.Count;
        var now = (await _api.StatusAsync(job.JobId)).Seq;
        await _api.WaitForAsync(job.JobId, s => s.Seq >= now + 3 || s.Status.IsTerminal());
        await Task.Delay(300);

        client.Received.Count.Should().Be(count);
    }
}
