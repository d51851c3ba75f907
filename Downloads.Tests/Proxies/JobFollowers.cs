using System.Globalization;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Proxies;

/// <summary>What one client saw of a job: the seqs it applied, in order, and the terminal event.</summary>
public sealed record FollowedJob(string Way, IReadOnlyList<long> Seqs, JobEvent Terminal)
{
    /// <summary>Snapshot to terminal event with no seq missed or repeated, the job completed.</summary>
    public void ShouldBeWholeAndCompleted()
    {
        Seqs.Should().Equal(Enumerable.Range((int)Seqs[0], Seqs.Count).Select(i => (long)i), $"{Way} misses no event");
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
        return new FollowedJob($"the hub over {transports}", [.. client.Applied.Select(e => e.Seq)], terminal);
    }

    public static async Task<FollowedJob> OverEventStreamAsync(HttpClient http, Guid jobId, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var response = await http.GetAsync($"/v1/download/events/{jobId}", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        response.EnsureSuccessStatusCode();
        var events = await ServerSentEvents.ReadAllAsync(response).WaitAsync(deadline.Token);
        events.Should().NotBeEmpty();
        var terminal = JsonSerializer.Deserialize<JobEvent>(events[^1].Data, DownloadsApi.Json)!;
        terminal.Status.IsTerminal().Should().BeTrue("the stream ends after the terminal event, not when a proxy cuts it");
        return new FollowedJob("the SSE stream", [.. events.Select(e => long.Parse(e.Id!, CultureInfo.InvariantCulture))], terminal);
    }
}
