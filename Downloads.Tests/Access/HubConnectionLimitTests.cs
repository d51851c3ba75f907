using System.Net;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Downloads.Tests.Access;

/// <summary>
/// <c>Downloads:RateLimiting:MaxConnectionsPerClient</c> counts SignalR connections, one each from connect to
/// disconnect whatever the transport, per client (here: per API key).
/// </summary>
public sealed class HubConnectionLimitTests
{
    private static readonly long[] SlowJob = [70000, 70007, 70014];

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task The_connection_beyond_the_limit_is_refused_and_another_clients_is_not(HttpTransportType transport)
    {
        await using var app = Slow(limit: 2);
        var jobOfA = await AccessTestApps.Client(app, AccessTestApps.KeyA).InitiateAsync(SlowJob);
        var jobOfB = await AccessTestApps.Client(app, AccessTestApps.KeyB).InitiateAsync(SlowJob);
        await using var first = await FollowAsync(app, jobOfA.JobId, transport, AccessTestApps.KeyA);
        await using var second = await FollowAsync(app, jobOfA.JobId, transport, AccessTestApps.KeyA);
        await using var third = Connection(app, jobOfA.JobId, transport, AccessTestApps.KeyA);
        await using var otherClient = Connection(app, jobOfB.JobId, transport, AccessTestApps.KeyB);

        var thirdStart = () => third.StartAsync().DefaultTimeout();

        (await thirdStart.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        await otherClient.StartAsync().DefaultTimeout();
        otherClient.State.Should().Be(HubConnectionState.Connected);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task A_closed_connection_gives_its_place_back(HttpTransportType transport)
    {
        await using var app = Slow(limit: 1);
        var job = await AccessTestApps.Client(app, AccessTestApps.KeyA).InitiateAsync(SlowJob);
        var first = await FollowAsync(app, job.JobId, transport, AccessTestApps.KeyA);
        await first.DisposeAsync();

        // The server learns of the close a moment after the client: the place is back soon, not necessarily at once.
        await using var next = await EventuallyAsync(() => FollowAsync(app, job.JobId, transport, AccessTestApps.KeyA));

        next.State.Should().Be(HubConnectionState.Connected);
    }

    [Fact]
    public async Task A_long_polling_client_is_one_connection_while_it_polls_and_sends()
    {
        // One place: the pending poll and the sends that Subscribe makes beside it must all fit in it.
        await using var app = AccessTestApps.Create().With("Downloads:RateLimiting:MaxConnectionsPerClient", "1");
        var api = AccessTestApps.Client(app, AccessTestApps.KeyA);
        var first = await api.InitiateAsync(DownloadsApi.ThreeFileJob);
        var second = await api.InitiateAsync(DownloadsApi.ThreeFileJob);

        await using var client = await JobEventRecorder.SubscribeAsync(app.BaseAddress, first.JobId, HttpTransportType.LongPolling, AccessTestApps.KeyA);
        await client.Connection.InvokeAsync("Subscribe", second.JobId.ToString()).DefaultTimeout();

        (await client.WaitForTerminalAsync()).Status.Should().Be(JobStatus.Completed);
        client.Connection.State.Should().Be(HubConnectionState.Connected);
    }

    [Fact]
    public async Task A_client_that_skips_negotiation_is_closed_beyond_the_limit()
    {
        await using var app = Slow(limit: 1);
        var job = await AccessTestApps.Client(app, AccessTestApps.KeyA).InitiateAsync(SlowJob);
        await using var first = await FollowAsync(app, job.JobId, HttpTransportType.WebSockets, AccessTestApps.KeyA, skipNegotiation: true);
        await using var second = Connection(app, job.JobId, HttpTransportType.WebSockets, AccessTestApps.KeyA, skipNegotiation: true);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Closed += error =>
        {
            closed.TrySetResult(error);
            return Task.CompletedTask;
        };

        await second.StartAsync().DefaultTimeout();

        var error = await closed.Task.DefaultTimeout();
        error.Should().NotBeNull();
        error!.Message.Should().Contain("too many connections");
        first.State.Should().Be(HubConnectionState.Connected);
    }

    // Retries a connection refused with 429 until it is accepted, for a few seconds at most.
    private static async Task<HubConnection> EventuallyAsync(Func<Task<HubConnection>> connect)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            try
            {
                return await connect();
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.TooManyRequests && !deadline.IsCancellationRequested)
            {
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    // Files slow enough that the jobs run while the test connects.
    private static DownloadsApplication Slow(int limit) => AccessTestApps.Create()
        .With("Downloads:Processing:DelayMinMs", "5000")
        .With("Downloads:Processing:DelayMaxMs", "6000")
        .With("Downloads:RateLimiting:MaxConnectionsPerClient", $"{limit}");

    // A connection to /ws/download/{job_id} holding an API key, as a back end's SignalR client sends it.
    private static HubConnection Connection(DownloadsApplication app, Guid jobId, HttpTransportType transport, string apiKey, bool skipNegotiation = false) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(app.BaseAddress, $"/ws/download/{jobId}"), options =>
            {
                options.Transports = transport;
                options.SkipNegotiation = skipNegotiation;
                options.AccessTokenProvider = () => Task.FromResult<string?>(apiKey);
            })
            .AddJsonProtocol(options => DownloadsJson.Configure(options.PayloadSerializerOptions))
            .Build();

    // Connected and following: its snapshot arrived, so the hub counted it.
    private static async Task<HubConnection> FollowAsync(
        DownloadsApplication app, Guid jobId, HttpTransportType transport, string apiKey, bool skipNegotiation = false)
    {
        var connection = Connection(app, jobId, transport, apiKey, skipNegotiation);
        var snapshot = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<JobEvent>("update", _ => snapshot.TrySetResult());
        try
        {
            await connection.StartAsync().DefaultTimeout();
            await snapshot.Task.DefaultTimeout();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
