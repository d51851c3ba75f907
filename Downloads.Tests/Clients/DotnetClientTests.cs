using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Downloads.Client;
using Downloads.Contracts;
using Downloads.Tests.Browser;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Clients;

/// <summary>Downloads.Client against the real service on Kestrel: every transport to the end, gaps, cuts, the polling fallback.</summary>
public sealed class DotnetClientTests : IAsyncLifetime
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(60);
    private readonly DownloadsApplication _service = OneFileAtATime(new DownloadsApplication());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    /// <summary>
    /// One file at a time (150–300 ms each): a job of a few files lasts long enough for a client on a loaded machine to
    /// connect before it ends, so that pushed events (not only a snapshot of the ended job) are what a test sees.
    /// </summary>
    public static DownloadsApplication OneFileAtATime(DownloadsApplication app) => app.With("Downloads:Processing:MaxParallelFilesPerJob", "1");

    /// <summary>File ids that exist in the synthetic storage (id % 7 == 0).</summary>
    public static long[] ExistingFiles(int count) => [.. Enumerable.Range(0, count).Select(i => 70_000L + (7 * i))];

    [Theory]
    [InlineData(FollowTransport.WebSockets)]
    [InlineData(FollowTransport.ServerSentEvents)]
    [InlineData(FollowTransport.LongPolling)]
    [InlineData(FollowTransport.EventStream)]
    public async Task FollowAsync_carries_a_job_to_its_end_over_the_transport(FollowTransport transport)
    {
        using var client = Client();
        var job = await client.InitiateAsync(ExistingFiles(4)).DefaultTimeout();

        var events = await CollectAsync(client.FollowAsync(job.JobId, transport));

        ShouldBeWhole(events);
        // Pushed events, not the polling fallback (which only knows snapshots).
        events.Should().Contain(e => e.Type == JobEventType.Progress);
        events[^1].Results!.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.DownloadUrl != null);
    }

    [Fact]
    public async Task FollowAsync_by_polling_carries_a_job_to_its_end()
    {
        using var client = Client();
        var job = await client.InitiateAsync(ExistingFiles(3)).DefaultTimeout();

        var events = await CollectAsync(client.FollowAsync(job.JobId, FollowTransport.Polling));

        ShouldBeWhole(events);
        events.Should().OnlyContain(e => e.Type == JobEventType.Snapshot);
    }

    [Fact]
    public async Task Polls_to_the_end_when_the_hub_is_refused()
    {
        await using var blocked = OneFileAtATime(new DownloadsApplication()).WithHubBlocked();
        using var client = Client(blocked.BaseAddress);
        var job = await client.InitiateAsync(ExistingFiles(3)).DefaultTimeout();

        var events = await CollectAsync(client.FollowAsync(job.JobId));

        ShouldBeWhole(events);
        events.Should().OnlyContain(e => e.Type == JobEventType.Snapshot, "only the status document gets through");
    }

    [Theory]
    [InlineData(FollowTransport.LongPolling)]
    [InlineData(FollowTransport.EventStream)]
    public async Task Re_syncs_from_the_status_document_when_an_event_is_lost_on_the_way(FollowTransport transport)
    {
        // The hub's long polling or the SSE stream loses the third event (index 2, after the snapshot and one more).
        using var lossyStream = LossyHandler.DropsStreamEvent(2);
        using var client = transport == FollowTransport.EventStream ? Client(handler: lossyStream) : Client(hubHandler: LossyHandler.DropsHubUpdate(2));
        var job = await client.InitiateAsync(ExistingFiles(6)).DefaultTimeout();

        var events = await CollectAsync(client.FollowAsync(job.JobId, transport));

        ShouldBeWhole(events);
        ShouldBeResyncedOverTheLostEvent(events);
    }

    [Fact]
    public async Task Resumes_a_cut_event_stream_with_Last_Event_ID_losing_nothing()
    {
        using var lossy = LossyHandler.CutsStreamAfter(3);
        using var client = Client(handler: lossy, gapHold: TimeSpan.FromSeconds(10));
        var job = await client.InitiateAsync(ExistingFiles(6)).DefaultTimeout();

        var events = await CollectAsync(client.FollowAsync(job.JobId, FollowTransport.EventStream));

        ShouldBeWhole(events);
        lossy.LastEventIds.Should().HaveCountGreaterThanOrEqualTo(2);
        lossy.LastEventIds[0].Should().BeNull();
        long.Parse(lossy.LastEventIds[1]!, System.Globalization.CultureInfo.InvariantCulture).Should().Be(events[2].Seq);
        events.Skip(1).Should().NotContain(e => e.Type == JobEventType.Snapshot, "the stream replays what the cut lost");
    }

    [Theory]
    [InlineData(FollowTransport.WebSockets)]
    [InlineData(FollowTransport.ServerSentEvents)]
    [InlineData(FollowTransport.LongPolling)]
    [InlineData(FollowTransport.EventStream)]
    [InlineData(FollowTransport.Polling)]
    public async Task Redis_with_two_API_nodes_a_job_started_on_one_is_followed_to_its_end_on_the_other(FollowTransport transport)
    {
        await using var deployment = await TwoApiNodesAndAWorkerAsync();
        var (starter, follower) = (deployment.Nodes[0], deployment.Nodes[1]);
        using var initiating = Client(starter.BaseAddress);
        using var following = Client(follower.BaseAddress);
        var job = await initiating.InitiateAsync(ExistingFiles(4)).DefaultTimeout();

        var events = await CollectAsync(following.FollowAsync(job.JobId, transport));

        ShouldBeWhole(events);
        events[^1].Results!.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.DownloadUrl != null);
    }

    [Fact]
    public async Task Redis_with_two_API_nodes_a_hub_connection_cut_mid_job_resumes_on_the_other_node_losing_nothing()
    {
        await using var deployment = await TwoApiNodesAndAWorkerAsync();
        var (starter, follower) = (deployment.Nodes[0], deployment.Nodes[1]);
        using var initiating = Client(starter.BaseAddress);
        var cuts = new StrongBox<int>();
        using var following = Client(follower.BaseAddress, hubHandler: LossyHandler.CutsHubPollAfter(3, cuts));
        var job = await initiating.InitiateAsync(ExistingFiles(8)).DefaultTimeout();

        var events = await CollectAsync(following.FollowAsync(job.JobId, FollowTransport.LongPolling));

        cuts.Value.Should().Be(1, "the connection was cut once mid-job");
        ShouldBeWhole(events);
        events.Should().Contain(e => e.Type == JobEventType.Progress);
    }

    [Fact]
    public async Task FollowAsync_of_an_unknown_job_throws_404()
    {
        using var client = Client();

        var follow = () => CollectAsync(client.FollowAsync(Guid.NewGuid()));

        (await follow.Should().ThrowAsync<DownloadsApiException>()).Which.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WaitForCompletionAsync_returns_the_terminal_event_and_the_result_has_the_links()
    {
        using var client = Client();
        var job = await client.InitiateAsync(ExistingFiles(2)).DefaultTimeout();
        var reported = new List<JobEvent>();

        var last = await client.WaitForCompletionAsync(job.JobId, new InlineProgress(reported.Add)).DefaultTimeout(JobTimeout);
        var result = await client.GetResultAsync(job.JobId).DefaultTimeout();

        last.Status.Should().Be(JobStatus.Completed);
        reported[^1].Should().Be(last);
        result.Ended.Should().BeTrue();
        result.Document!.DownloadUrls.Should().HaveCount(2);
    }

    [Fact]
    public async Task Cancel_pause_and_resume_answer_the_status_document()
    {
        using var client = Client();
        var job = await client.InitiateAsync(ExistingFiles(20)).DefaultTimeout();

        var paused = await client.PauseAsync(job.JobId).DefaultTimeout();
        var cancelled = await client.CancelAsync(job.JobId).DefaultTimeout();
        var resume = () => client.ResumeAsync(job.JobId);

        paused.Status.Should().BeOneOf(JobStatus.Processing, JobStatus.Paused);
        cancelled.Status.Should().Be(JobStatus.Cancelled);
        (await resume.Should().ThrowAsync<DownloadsApiException>()).Which.StatusCode.Should().Be(System.Net.HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task The_console_tool_downloads_and_verifies_the_files_of_a_real_job()
    {
        var output = Directory.CreateTempSubdirectory("downloads-cli-");
        try
        {
            var (exitCode, log) = await ExternalCommand.RunAsync(
                Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Downloads.Cli.dll"), "70000", "70007", "--url", _service.BaseAddress.ToString(), "--out", output.FullName],
                output.FullName,
                JobTimeout);

            exitCode.Should().Be(0, log);
            log.Should().Contain("job completed: 2 completed, 0 failed of 2");
            Regex.Matches(log, "sha256 ok").Should().HaveCount(2, log);
            output.GetFiles().Select(f => f.Name).Should().BeEquivalentTo(["70000.zip", "70007.zip"]);
            output.GetFiles().Should().OnlyContain(f => f.Length > 0);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>One Redis deployment of two API nodes (a job started on one is followed on the other) and a worker, one file at a time.</summary>
    public static async Task<TwoNodes> TwoApiNodesAndAWorkerAsync()
    {
        var deployment = new RedisDeployment(await RedisServer.Shared).With("Downloads:Processing:MaxParallelFilesPerJob", "1");
        DownloadsApplication[] nodes = [deployment.Node("api"), deployment.Node("api")];
        deployment.Node("worker");
        return new TwoNodes(deployment, nodes);
    }

    public sealed record TwoNodes(RedisDeployment Deployment, DownloadsApplication[] Nodes) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Deployment.DisposeAsync();
    }

    /// <summary>A client with short waits; tests that assert replay (no re-sync snapshot) pass a long <paramref name="gapHold"/>, so that a loaded machine's late event is not taken for a lost one.</summary>
    private DownloadsClient Client(
        Uri? baseAddress = null, HttpMessageHandler? handler = null, Func<HttpMessageHandler, HttpMessageHandler>? hubHandler = null, TimeSpan? gapHold = null) =>
        new(new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null), new DownloadsClientOptions
        {
            BaseAddress = baseAddress ?? _service.BaseAddress,
            PollInterval = TimeSpan.FromMilliseconds(200),
            GapHold = gapHold ?? TimeSpan.FromMilliseconds(300),
            ReconnectDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500)],
            HubMessageHandlerFactory = hubHandler,
        });

    private static async Task<List<JobEvent>> CollectAsync(IAsyncEnumerable<JobEvent> events)
    {
        using var deadline = new CancellationTokenSource(JobTimeout);
        var all = new List<JobEvent>();
        await foreach (var jobEvent in events.WithCancellation(deadline.Token))
        {
            all.Add(jobEvent);
        }

        return all;
    }

    /// <summary>A snapshot, or a terminal event with every result: either stands for the whole state.</summary>
    private static bool IsWholeState(JobEvent e) => e.Type == JobEventType.Snapshot || (e.Status.IsTerminal() && e.Results is not null);

    /// <summary>Snapshot first; each next event is seq + 1 or the whole state (a re-sync); nothing twice; ends completed.</summary>
    private static void ShouldBeWhole(List<JobEvent> events)
    {
        events.Should().NotBeEmpty();
        events[0].Type.Should().Be(JobEventType.Snapshot);
        events.Zip(events.Skip(1))
            .Where(pair => pair.Second.Seq != pair.First.Seq + 1 && !IsWholeState(pair.Second))
            .Select(pair => $"{pair.First.Seq} -> {pair.Second.Seq}")
            .Should().BeEmpty("nothing is missed");
        events.Select(e => e.Seq).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        events[^1].Status.Should().Be(JobStatus.Completed);
    }

    /// <summary>An event was lost on the way: the jump over it is a snapshot from the status document (a re-sync).</summary>
    private static void ShouldBeResyncedOverTheLostEvent(List<JobEvent> events) =>
        events.Zip(events.Skip(1)).Should().Contain(
            pair => pair.Second.Type == JobEventType.Snapshot && pair.Second.Seq > pair.First.Seq + 1, "the client re-synced over the lost event");

    /// <summary>Reports on the caller's thread, in order.</summary>
    private sealed class InlineProgress(Action<JobEvent> report) : IProgress<JobEvent>
    {
        public void Report(JobEvent value) => report(value);
    }
}
