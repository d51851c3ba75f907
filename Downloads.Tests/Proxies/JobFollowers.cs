using System.Globalization;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Proxies;

/// <summary>What one client saw of a job: the events it applied, in order, and the terminal event.</summary>
public sealed record FollowedJob(string Way, IReadOnlyList<JobEvent> Events, JobEvent Terminal)
{
    /// <summary>
    /// Snapshot to terminal event with nothing missed: each event is the next seq, or a snapshot (the hub sends a
    /// fresh one when the job moved while the client joined; the contract's re-sync). The job completed.
    /// </summary>
    public void ShouldBeWholeAndCompleted()
    {
        Events[0].Type.Should().Be(JobEventType.Snapshot, $"{Way} starts from a snapshot");
        Events.Zip(Events.Skip(1))
            .Where(pair => pair.Second.Seq != pair.First.Seq + 1 && pair.Second.Type != JobEventType.Snapshot)
            .Select(pair => $"{pair.First.Seq} -> {pair.Second.Seq}")
            .Should().BeEmpty($"{Way} misses no event");
        Terminal.Type.Should().Be(JobEventType.Completed, Way);
    }
}

/// <summary>The ways a client follows a job: the hub on a given transport (or negotiated), or the plain SSE stream.</summary>
public static class JobFollowers
{
    /// <summary>Default negotiation: WebSockets, then Server-Sent Events, then long polling.</summary>
    public const HttpTransportType Negotiated =
        HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;

    public static async Task<FollowedJob> OverHubAsync(Uri baseAddress, Guid jobId, HttpTransportType transports, TimeSpan timeout)
    {
        await using var client = await JobEventRecorder.FollowAsync(baseAddress, jobId, transports);
        var terminal = await client.WaitForTerminalAsync(timeout);
        client.Resyncs.Should().Be(0, "a gap would mean the proxy lost an event");
        return new FollowedJob($"the hub over {transports}", client.Applied, terminal);
    }

    public static async Task<FollowedJob> OverEventStreamAsync(HttpClient http, Guid jobId, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var response = await http.GetAsync($"/v1/download/events/{jobId}", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        response.EnsureSuccessStatusCode();
        var events = await ServerSentEvents.ReadAllAsync(response).WaitAsync(deadline.Token);
        events.Should().NotBeEmpty();
        var parsed = events.Select(e => JsonSerializer.Deserialize<JobEvent>(e.Data, DownloadsApi.Json)!).ToList();
        parsed.Select(e => e.Seq).Should().Equal(events.Select(e => long.Parse(e.Id!, CultureInfo.InvariantCulture)), "id is the event's seq");
        parsed[^1].Status.IsTerminal().Should().BeTrue("the stream ends after the terminal event, not when a proxy cuts it");
        return new FollowedJob("the SSE stream", parsed, parsed[^1]);
    }
}
