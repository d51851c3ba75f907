using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Serilog.Core;
using Serilog.Events;
using StackExchange.Redis;

namespace Downloads.Tests.Realtime;

/// <summary>
/// The Redis backplane's own work for a connection (a channel of its own, subscribed on connect) can be slow or fail,
/// as on a loaded machine or while Redis stalls. The connection must not die of it: it used to be closed with
/// <c>InternalServerError</c> in the middle of the client's next call.
/// </summary>
public sealed class HubBackplaneTests
{
    // Longer than Downloads:Redis:TimeoutMs (2 s) plus the Redis client's timeout check (once a second).
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_connection_opened_while_Redis_stalls_stays_open_and_follows_a_job_once_Redis_answers()
    {
        // A Redis of its own: stalling the shared one would stall every other test.
        await using var redis = await RedisServer.StartPrivateAsync();
        var log = new WarningLog();
        await using var app = new DownloadsApplication().WithRedis(redis, RedisServer.NewKeyPrefix())
            .WithServices(services => services.AddSingleton<ILogEventSink>(log));
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000]);
        var ended = await api.WaitForEndAsync(job.JobId);
        await using (var warm = await JobEventRecorder.FollowAsync(app.BaseAddress, job.JobId, HttpTransportType.WebSockets))
        {
            // The backplane's own subscriptions are made at the first connection: done before the stall.
            await warm.WaitForTerminalAsync();
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true");
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", (long)Stall.TotalMilliseconds, "ALL");
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var snapshot = new TaskCompletionSource<JobEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = JobEventRecorder.Build(new Uri(app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets);
        connection.Closed += error => Task.FromResult(closed.TrySetResult(error));
        connection.On<JobEvent>("update", e => snapshot.TrySetResult(e));
        // The handshake needs no Redis; the backplane's subscription for this connection waits for Redis and times out.
        await connection.StartAsync().DefaultTimeout();
        await Task.Delay(Stall + TimeSpan.FromSeconds(1));
        var closedWith = closed.Task.IsCompleted ? (await closed.Task)?.Message : null;
        closed.Task.IsCompleted.Should().BeFalse($"the connection outlives the stall (it was closed with: {closedWith})");

        await connection.InvokeAsync("Subscribe", job.JobId.ToString()).DefaultTimeout();

        (await snapshot.Task.DefaultTimeout()).Seq.Should().Be(ended.Seq);
        closed.Task.IsCompleted.Should().BeFalse();
        log.Sources.Should().Contain("Downloads.Api.Realtime.BackplaneLifetimeManager", "the stall did make the backplane's subscription fail");
    }

    private sealed class WarningLog : ILogEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _sources = new();

        public IReadOnlyList<string> Sources => [.. _sources];

        public void Emit(LogEvent logEvent)
        {
            if (logEvent.Level >= LogEventLevel.Warning && logEvent.Properties.TryGetValue("SourceContext", out var source))
            {
                _sources.Enqueue(((ScalarValue)source).Value?.ToString() ?? "");
            }
        }
    }
}
