using System.Globalization;
using System.Text.Json;
using Downloads.Api.Http;
using Downloads.Api.Realtime;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Downloads;

/// <summary>
/// <c>GET /v1/download/events/{job_id}</c>: a plain Server-Sent Events stream for clients without a SignalR
/// library. First a <c>snapshot</c> (or, with <c>Last-Event-ID</c>, the events missed since), then every event in
/// <c>seq</c> order, then the stream ends after the terminal event. A comment every
/// <c>Downloads:Realtime:KeepAliveSeconds</c> (15 s) keeps idle proxies open.
/// </summary>
[ApiController]
[Route("v1/download/events")]
public sealed class JobEventsController(JobLedger ledger, IJobStore store, IJobEventStream events, IOptions<RealtimeOptions> realtime) : ControllerBase
{

    [HttpGet("{jobId}")]
    [Produces("text/event-stream")]
    // Each event's `data` is one JobEvent: documented so that clients (and the client packages' type test) see its schema.
    [ProducesResponseType<JobEvent>(StatusCodes.Status200OK, "text/event-stream")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<IActionResult> Stream(string jobId, CancellationToken cancellationToken)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            return this.MalformedJobId(jobId);
        }

        // Subscribe before reading the job, so nothing recorded in between is missed.
        await using var subscription = await events.SubscribeAsync(id, cancellationToken);
        if (await ledger.GetAsync(id, cancellationToken) is not { } job)
        {
            return this.JobNotFound(id);
        }

        var lastEventId = LastEventId();
        if (job.Status.IsTerminal() && lastEventId >= job.Seq)
        {
            // The client has it all; 204 also tells a browser's EventSource to stop reconnecting.
            return NoContent();
        }

        Response.ContentType = "text/event-stream";
        Response.Headers.CacheControl = "no-cache";
        Response.Headers["X-Accel-Buffering"] = "no";
        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var writer = new Writer(Response.Body);
        var position = await CatchUpAsync(writer, job, lastEventId, cancellationToken);
        while (!position.Ended)
        {
            var next = await ReadAsync(subscription, realtime.Value.KeepAliveInterval, cancellationToken);
            if (next is null)
            {
                await writer.CommentAsync("keep-alive", cancellationToken);
            }
            else if (next.Seq == position.Seq + 1)
            {
                position = await writer.EventAsync(next, cancellationToken);
            }
            else if (next.Seq > position.Seq + 1)
            {
                // A gap (the live feed dropped something): replay it from the job's log.
                var current = await ledger.GetAsync(id, cancellationToken) ?? job;
                position = await CatchUpAsync(writer, current, position.Seq, cancellationToken);
            }
        }

        return new EmptyResult();
    }

    /// <summary>Where the stream stands: the last seq written, and whether it was the terminal one.</summary>
    private readonly record struct StreamPosition(long Seq, bool Ended);

    // The events after afterSeq from the job's log, or a fresh snapshot where the log cannot replay them all.
    private async Task<StreamPosition> CatchUpAsync(Writer writer, DownloadJob job, long? afterSeq, CancellationToken cancellationToken)
    {
        if (afterSeq is { } after && after <= job.Seq
            && await store.GetEventsAfterAsync(job.Id, after, cancellationToken) is { } missed)
        {
            var position = new StreamPosition(after, job.Status.IsTerminal() && after == job.Seq);
            foreach (var jobEvent in missed)
            {
                position = await writer.EventAsync(jobEvent, cancellationToken);
            }

            return position;
        }

        return await writer.EventAsync(JobDocuments.ToSnapshot(job), cancellationToken);
    }

    private static async Task<JobEvent?> ReadAsync(JobEventSubscription subscription, TimeSpan heartbeatInterval, CancellationToken cancellationToken)
    {
        using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        heartbeat.CancelAfter(heartbeatInterval);
        try
        {
            return await subscription.Reader.ReadAsync(heartbeat.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private long? LastEventId()
    {
        var header = Request.Headers["Last-Event-ID"].ToString();
        var value = header.Length > 0 ? header : Request.Query["last_event_id"].ToString();
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : null;
    }

    private sealed class Writer(Stream body)
    {
        public async Task<StreamPosition> EventAsync(JobEvent jobEvent, CancellationToken cancellationToken)
        {
            var data = JsonSerializer.Serialize(jobEvent, DownloadsJson.Options);
            var type = JsonNamingPolicy.SnakeCaseLower.ConvertName(jobEvent.Type.ToString());
            await WriteAsync($"id: {jobEvent.Seq}\nevent: {type}\ndata: {data}\n\n", cancellationToken);
            return new StreamPosition(jobEvent.Seq, jobEvent.Status.IsTerminal());
        }

        public Task CommentAsync(string text, CancellationToken cancellationToken) => WriteAsync($": {text}\n\n", cancellationToken);

        private async Task WriteAsync(string text, CancellationToken cancellationToken)
        {
            await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
            await body.FlushAsync(cancellationToken);
        }
    }
}
