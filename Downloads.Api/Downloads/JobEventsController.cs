using System.Globalization;
using System.Text.Json;
using Downloads.Api.Access;
using Downloads.Api.Http;
using Downloads.Api.Protection;
using Downloads.Api.Realtime;
using Downloads.Contracts;
using Downloads.Jobs;
using Microsoft.AspNetCore.Authorization;
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
[Authorize(Policy = AccessPolicies.JobCaller)]
public sealed class JobEventsController(JobEventFeed feed, IOptions<RealtimeOptions> realtime, IAuthorizationService authorization)
    : ControllerBase
{
    [HttpGet("{jobId}")]
    [ServiceFilter<EventStreamLimitFilter>]
    [Produces("text/event-stream")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
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

        await using var cursor = await feed.OpenAsync(id, cancellationToken);
        // Another API key's job, or another job's token, is answered as a job that does not exist.
        if (cursor is null || !await authorization.MayAccessAsync(User, cursor.Job))
        {
            return this.JobNotFound(id);
        }

        var lastEventId = LastEventId();
        if (cursor.Job.Status.IsTerminal() && lastEventId >= cursor.Job.Seq)
        {
            // The client has it all; 204 also tells a browser's EventSource to stop reconnecting.
            return NoContent();
        }

        Response.ContentType = "text/event-stream";
        Response.Headers.CacheControl = "no-cache";
        Response.Headers["X-Accel-Buffering"] = "no";
        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var writer = new Writer(Response.Body);
        await writer.EventsAsync(await cursor.CatchUpAsync(lastEventId, cancellationToken), cancellationToken);
        while (!cursor.Ended)
        {
            var next = await cursor.NextAsync(realtime.Value.KeepAliveInterval, cancellationToken);
            if (next.Count == 0)
            {
                await writer.CommentAsync("keep-alive", cancellationToken);
            }

            await writer.EventsAsync(next, cancellationToken);
        }

        return new EmptyResult();
    }

    private long? LastEventId()
    {
        var header = Request.Headers["Last-Event-ID"].ToString();
        var value = header.Length > 0 ? header : Request.Query["last_event_id"].ToString();
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : null;
    }

    private sealed class Writer(Stream body)
    {
        public async Task EventsAsync(IEnumerable<JobEvent> jobEvents, CancellationToken cancellationToken)
        {
            foreach (var jobEvent in jobEvents)
            {
                var data = JsonSerializer.Serialize(jobEvent, DownloadsJson.Options);
                var type = JsonNamingPolicy.SnakeCaseLower.ConvertName(jobEvent.Type.ToString());
                await WriteAsync($"id: {jobEvent.Seq}\nevent: {type}\ndata: {data}\n\n", cancellationToken);
            }
        }

        public Task CommentAsync(string text, CancellationToken cancellationToken) => WriteAsync($": {text}\n\n", cancellationToken);

        private async Task WriteAsync(string text, CancellationToken cancellationToken)
        {
            await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
            await body.FlushAsync(cancellationToken);
        }
    }
}
