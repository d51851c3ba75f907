using Downloads.Api.Http;
using Downloads.Api.Protection;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Downloads.Api.Downloads;

/// <summary>The REST routes of download jobs. Nothing here waits on a file: jobs run in Hangfire.</summary>
[ApiController]
[Route("v1/download")]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
public sealed class DownloadsController(
    DownloadJobCommands commands, JobLedger ledger, IWebhookDeliveryStore webhookDeliveries, WebhookTargetGuard webhookTargets)
    : ControllerBase
{
    /// <summary>How long a client should wait before asking for a result again.</summary>
    private const int ResultRetryAfterSeconds = 2;

    private const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Starts a job and answers at once with its id and URLs.</summary>
    [HttpPost("initiate")]
    [Consumes("application/json")]
    [RequestSizeLimit(64 * 1024)]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.InitiatePolicy)]
    [ServiceFilter<ActiveJobLimitFilter>]
    [ProducesResponseType<InitiateDownloadResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status413PayloadTooLarge, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status415UnsupportedMediaType, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status422UnprocessableEntity, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    public async Task<IActionResult> Initiate(
        [FromBody] InitiateDownloadRequest request,
        CancellationToken cancellationToken)
    {
        // Read by hand: model binding turns an empty header into "absent", and an empty key is an error.
        var idempotencyKey = Request.Headers.TryGetValue(IdempotencyKeyHeader, out var keys) ? keys.ToString() : null;
        var errors = InitiateRequestValidator.Validate(request, idempotencyKey);
        if (errors.Count == 0 && request.CallbackUrl is { } callbackUrl
            && await webhookTargets.CheckAtInitiateAsync(new Uri(callbackUrl), cancellationToken) is { } refusal)
        {
            errors["callback_url"] = [refusal];
        }

        if (errors.Count > 0)
        {
            return this.Validation(errors);
        }

        var outcome = await commands.InitiateAsync(
            request.FileIds!, request.CallbackUrl, PublicUrls.BaseUrl(Request), idempotencyKey, cancellationToken);
        if (outcome.IdempotencyConflict)
        {
            return this.ProblemResult(
                StatusCodes.Status422UnprocessableEntity,
                "Idempotency-Key reused",
                "This Idempotency-Key was used within the last 24 hours with another request body.");
        }

        if (outcome.Replayed)
        {
            Response.Headers["Idempotent-Replayed"] = "true";
        }

        var id = outcome.JobId.ToString("D");
        var baseUrl = PublicUrls.BaseUrl(Request);
        var response = new InitiateDownloadResponse(
            outcome.JobId,
            JobStatus.Queued,
            outcome.TotalFiles,
            $"{PublicUrls.WebSocketBaseUrl(Request)}/ws/download/{id}",
            $"{baseUrl}/ws/download/{id}",
            $"{baseUrl}/v1/download/status/{id}",
            $"{baseUrl}/v1/download/result/{id}",
            $"{baseUrl}/v1/download/events/{id}");
        return Accepted($"/v1/download/status/{id}", response);
    }

    /// <summary>The job's status document.</summary>
    [HttpGet("status/{jobId}")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public Task<IActionResult> Status(string jobId, CancellationToken cancellationToken) =>
        WithJobAsync(jobId, async job => Ok(await StatusDocumentAsync(job, cancellationToken)), cancellationToken);

    /// <summary>The job's links once it has ended; <c>202</c> with <c>Retry-After</c> before.</summary>
    [HttpGet("result/{jobId}")]
    [ProducesResponseType<JobResultDocument>(StatusCodes.Status200OK)]
    [ProducesResponseType<JobPendingDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public Task<IActionResult> Result(string jobId, CancellationToken cancellationToken) =>
        WithJobAsync(jobId, job =>
        {
            if (job.Status.IsTerminal())
            {
                return Ok(JobDocuments.ToResult(job));
            }

            Response.Headers.RetryAfter = ResultRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return StatusCode(StatusCodes.Status202Accepted, JobDocuments.ToPending(job.Header));
        }, cancellationToken);

    /// <summary>Cancels the job: pending files are skipped, completed ones keep their links.</summary>
    [HttpDelete("{jobId}")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Cancel(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.CancelAsync, job => job.Status == JobStatus.Cancelled, cancellationToken);

    /// <summary>No new file starts; the job is <c>paused</c> once no file is in flight.</summary>
    [HttpPost("{jobId}/pause")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Pause(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.PauseAsync, JobTransitions.IsPausedOrPausing, cancellationToken);

    /// <summary>Processing goes on with the files not yet done.</summary>
    [HttpPost("{jobId}/resume")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Resume(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.ResumeAsync, alreadyDone: _ => false, cancellationToken);

    /// <summary>Whether a file exists, and its size.</summary>
    [HttpPost("check")]
    [Consumes("application/json")]
    [ProducesResponseType<FileCheckResponse>(StatusCodes.Status200OK)]
    public async Task<IActionResult> Check([FromBody] FileCheckRequest request, [FromServices] IFileStorage storage, CancellationToken cancellationToken)
    {
        if (request.FileId is not { } fileId)
        {
            return this.Validation(new Dictionary<string, string[]> { ["file_id"] = ["is required"] });
        }

        if (InitiateRequestValidator.FileIdError(fileId) is { } error)
        {
            return this.Validation(new Dictionary<string, string[]> { ["file_id"] = [error] });
        }

        var file = await storage.FindAsync(fileId, cancellationToken);
        return Ok(new FileCheckResponse(fileId, file is not null, file?.Size));
    }

    private Task<IActionResult> WithJobAsync(string jobId, Func<DownloadJob, IActionResult> answer, CancellationToken cancellationToken) =>
        WithJobAsync(jobId, job => Task.FromResult(answer(job)), cancellationToken);

    private async Task<IActionResult> WithJobAsync(string jobId, Func<DownloadJob, Task<IActionResult>> answer, CancellationToken cancellationToken)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            return this.MalformedJobId(jobId);
        }

        return await ledger.GetAsync(id, cancellationToken) is { } job ? await answer(job) : this.JobNotFound(id);
    }

    // A change that the state does not allow is a 409, unless the job is already where it was asked to go.
    private async Task<IActionResult> ChangeAsync(
        string jobId,
        Func<Guid, CancellationToken, Task<JobUpdate?>> change,
        Func<JobHeader, bool> alreadyDone,
        CancellationToken cancellationToken)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            return this.MalformedJobId(jobId);
        }

        // The answer is the whole job as it stands after the change (O(files), like any status read).
        var update = await change(id, cancellationToken);
        if (update is null || await ledger.GetAsync(id, cancellationToken) is not { } job)
        {
            return this.JobNotFound(id);
        }

        return update.Changed || alreadyDone(update.Job)
            ? StatusCode(StatusCodes.Status202Accepted, await StatusDocumentAsync(job, cancellationToken))
            : this.JobStateConflict($"The job is {update.Job.Status.ToString().ToLowerInvariant()}{(update.Job.PauseRequested ? " (pausing)" : "")}; that is not allowed now.");
    }

    // The webhook's delivery state is not part of the job (it changes after the job's seq has ended): merged in here.
    private async Task<JobStatusDocument> StatusDocumentAsync(DownloadJob job, CancellationToken cancellationToken) =>
        JobDocuments.ToStatus(
            job,
            job.CallbackUrl is null ? null : WebhookDelivery.StateOf(job.Header, await webhookDeliveries.GetAsync(job.Id, cancellationToken)));
}
