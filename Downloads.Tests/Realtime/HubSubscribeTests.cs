using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Realtime;

/// <summary>
/// Slow files (one at a time, ~2 s each, progress every 50 ms), and whole-job reads whose answer is
/// <see cref="JobReadAge"/> old when it arrives: a snapshot is out of date by the time the hub sends it, and
/// events keep being recorded while a client subscribes.
/// </summary>
public class HubSubscribeApplication : SlowJobsApplication
{
    public static readonly TimeSpan JobReadAge = TimeSpan.FromMilliseconds(300);

    public HubSubscribeApplication() => WithServices(services => SlowEventLogReads.Decorate(services, TimeSpan.Zero, JobReadAge));
}

/// <summary>The same in Redis mode, on the shared test Redis with a prefix of its own.</summary>
public sealed class RedisHubSubscribeApplication : HubSubscribeApplication
{
    public RedisHubSubscribeApplication() => WithRedis(RedisServer.Shared.GetAwaiter().GetResult(), RedisServer.NewKeyPrefix());
}

/// <summary>In one process, all in memory.</summary>
public sealed class InMemoryHubSubscribeTests(HubSubscribeApplication app) : HubSubscribeTests<HubSubscribeApplication>(app);

/// <summary>In Redis mode: live events through the commit's PUBLISH.</summary>
public sealed class RedisHubSubscribeTests(RedisHubSubscribeApplication app) : HubSubscribeTests<RedisHubSubscribeApplication>(app);

/// <summary>
/// A plain subscription (<c>Subscribe</c>, or a connection at <c>/ws/download/{job_id}</c>) is gap-free by
/// construction: its snapshot, then every later event once and in seq order, with no catch-up snapshot to wait for.
/// </summary>
public abstract class HubSubscribeTests<TApplication> : IClassFixture<TApplication>
    where TApplication : HubSubscribeApplication
{
    private static readonly long[] Files = [70000, 70007, 70014];

    private readonly HubSubscribeApplication _app;
    private readonly DownloadsApi _api;

    protected HubSubscribeTests(TApplication app)
    {
        _app = app;
        _api = new DownloadsApi(app.CreateApiClient());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Subscriptions_started_while_events_flow_get_a_snapshot_then_every_event_in_order(bool jobPath)
    {
        var job = await _api.InitiateAsync(Files);
        var clients = new List<JobEventRecorder>();
        try
        {
            // Subscribe at many moments of a running job: each snapshot is older than the events recorded meanwhile.
            for (var i = 0; i < 8; i++)
            {
                if ((await _api.StatusAsync(job.JobId)).Status.IsTerminal())
                {
                    break;
                }

                clients.Add(jobPath
                    ? await JobEventRecorder.FollowAsync(_app.BaseAddress, job.JobId, HttpTransportType.WebSockets)
                    : await JobEventRecorder.SubscribeAsync(_app.BaseAddress, job.JobId, HttpTransportType.WebSockets));
                await Task.Delay(100);
            }

            clients.Should().HaveCountGreaterThan(2, "the job runs for seconds");
            foreach (var client in clients)
            {
                var terminal = await client.WaitForTerminalAsync();
                var received = client.Received;
                received[0].Type.Should().Be(JobEventType.Snapshot);
                received.Skip(1).Should().NotContain(e => e.Type == JobEventType.Snapshot, "nothing was missed, so nothing needs a catch-up");
                received.Select(e => e.Seq).Should().Equal(
                    Enumerable.Range((int)received[0].Seq, (int)(terminal.Seq - received[0].Seq + 1)).Select(i => (long)i),
                    "every event after the snapshot, once and in order");
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
}
