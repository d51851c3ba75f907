using System.Net;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>The SSE stream: in memory.</summary>
public sealed class InMemoryEventStreamTests(DownloadsApplication app) : EventStreamTests<DownloadsApplication>(app);

/// <summary>The SSE stream: in Redis mode.</summary>
public sealed class RedisEventStreamTests(RedisDownloadsApplication app) : EventStreamTests<RedisDownloadsApplication>(app);

/// <summary>The plain SSE stream: snapshot first, every event in order, ends after the terminal one; Last-Event-ID resumes.</summary>
public abstract class EventStreamTests<TApplication>(TApplication app) : IClassFixture<TApplication>
    where TApplication : DownloadsApplication
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task The_stream_carries_a_job_from_snapshot_to_terminal_event()
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);

        var events = await ReadStreamAsync(job.EventsUrl);

        events[0].Event.Should().Be("snapshot");
        events[^1].Event.Should().Be("completed");
        var seqs = events.Select(e => long.Parse(e.Id!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        seqs.Should().Equal(Enumerable.Range((int)seqs[0], seqs.Count).Select(i => (long)i), "no event is missed or repeated");
        events.Select(e => Parse(e).Seq).Should().Equal(seqs, "id is the event's seq");
        events.Select(e => e.Event).Should().Equal(events.Select(e => JsonNamingPolicy.SnakeCaseLower.ConvertName(Parse(e).Type.ToString())));
    }

    [Fact]
    public async Task A_reconnect_with_last_event_id_resumes_after_it()
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);
        var ended = await _api.WaitForEndAsync(job.JobId);

        var events = await ReadStreamAsync(job.EventsUrl, lastEventId: ended.Seq - 3);

        events.Select(e => e.Id).Should().Equal($"{ended.Seq - 2}", $"{ended.Seq - 1}", $"{ended.Seq}");
    }

    [Fact]
    public async Task A_reconnect_past_what_the_log_holds_gets_a_fresh_snapshot()
    {
        var job = await _api.InitiateAsync([70000]);
        await _api.WaitForEndAsync(job.JobId);

        var events = await ReadStreamAsync(job.EventsUrl, lastEventId: 0);

        events.Should().ContainSingle().Which.Event.Should().Be("snapshot");
    }

    [Fact]
    public async Task A_client_that_has_the_terminal_event_gets_204()
    {
        var job = await _api.InitiateAsync([70000]);
        var ended = await _api.WaitForEndAsync(job.JobId);
        using var request = new HttpRequestMessage(HttpMethod.Get, job.EventsUrl);
        request.Headers.Add("Last-Event-ID", ended.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task The_stream_is_not_buffered_by_proxies()
    {
        var job = await _api.InitiateAsync([70000]);
        using var request = new HttpRequestMessage(HttpMethod.Get, job.EventsUrl);

        using var response = await _api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        response.Headers.GetValues("X-Accel-Buffering").Should().Equal("no");
        response.Headers.CacheControl!.NoCache.Should().BeTrue();
    }

    private async Task<IReadOnlyList<ServerSentEvent>> ReadStreamAsync(string url, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await _api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await ServerSentEvents.ReadAllAsync(response).DefaultTimeout();
    }

    private static JobEvent Parse(ServerSentEvent e) => JsonSerializer.Deserialize<JobEvent>(e.Data, DownloadsApi.Json)!;
}
