using Downloads.Api.Access;
using Downloads.Api.Http;
using Downloads.Api.Protection;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Jobs.Access;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Retries;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Webhooks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Downloads;

/// <summary>The REST routes of download jobs. Nothing here waits on a file: jobs run in Hangfire.</summary>
[ApiController]
[Route("v1/download")]
[Authorize(Policy = AccessPolicies.JobCaller)]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
public sealed class DownloadsController(
    DownloadJobCommands commands,
    JobLedger ledger,
    IWebhookDeliveryStore webhookDeliveries,
    WebhookTargetGuard webhookTargets,
    IAuthorizationService authorization,
    JobAccessTokens accessTokens,
    PublicUrls publicUrls,
    IOptions<AuthOptions> auth,
    DownloadLinkSigner linkSigner)
    : ControllerBase
{
    /// <summary>How long a client should wait before asking for a result again.</summary>
    private const int ResultRetryAfterSeconds = 2;

    private const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Starts a job and answers at once with its id and URLs.</summary>
    [HttpPost("initiate")]
    [Authorize(Policy = AccessPolicies.ApiKey)]
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
            request.FileIds!, request.CallbackUrl, publicUrls.BaseUrl(Request), idempotencyKey, User.ApiKeyName(), ClientKeys.Of(HttpContext), cancellationToken);
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

        return Started(outcome, retryOf: null);
    }

    /// <summary>
    /// A new job of the failed files of an ended job (all of them, or the listed ones), answered like an initiate plus
    /// <c>retry_of</c>; it inherits the <c>callback_url</c>. The ended job is left as it is.
    /// </summary>
    /// <response code="400">A listed id is not a failed file of this job (completed, skipped, not in it, or listed twice).</response>
    /// <response code="409">The job has not ended, or has no failed file.</response>
    [HttpPost("{jobId}/retry")]
    [RequestSizeLimit(64 * 1024)]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.InitiatePolicy)]
    [ServiceFilter<ActiveJobLimitFilter>]
    [ProducesResponseType<InitiateDownloadResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    public async Task<IActionResult> Retry(
        string jobId,
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RetryDownloadRequest? request,
        CancellationToken cancellationToken)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            return this.MalformedJobId(jobId);
        }

        // Another key's job is not found, and no job is made of it.
        if (!await MayAccessAsync(id, cancellationToken))
        {
            return this.JobNotFound(id);
        }

        var outcome = await commands.RetryAsync(id, request?.FileIds, publicUrls.BaseUrl(Request), ClientKeys.Of(HttpContext), cancellationToken);
        return outcome switch
        {
            null => this.JobNotFound(id),
            { Plan.Refusal: RetryRefusal.NotEnded } => this.JobStateConflict("The job has not ended; its files can be retried once it has."),
            { Plan.Refusal: RetryRefusal.NothingFailed } => this.JobStateConflict("The job has no failed file to retry."),
            { Plan.Refusal: RetryRefusal.NotFailedFiles } => this.Validation(
                new Dictionary<string, string[]>(outcome.Plan.Errors), "Only failed files of this job can be retried."),
            _ => Started(outcome.Started!, retryOf: id),
        };
    }

    private AcceptedResult Started(InitiateOutcome outcome, Guid? retryOf)
    {
        var id = outcome.JobId.ToString("D");
        var baseUrl = publicUrls.BaseUrl(Request);
        var token = accessTokens.For(outcome.JobId);
        // With API keys, each URL opens on its own: the browser given it needs no key.
        var query = auth.Value.RequiresApiKeys ? $"?{ApiKeyAuthenticationHandler.AccessTokenQuery}={token}" : "";
        var response = new InitiateDownloadResponse(
            outcome.JobId,
            JobStatus.Queued,
            outcome.TotalFiles,
            $"{publicUrls.WebSocketBaseUrl(Request)}/ws/download/{id}{query}",
            $"{baseUrl}/ws/download/{id}{query}",
            $"{baseUrl}/v1/download/status/{id}{query}",
            $"{baseUrl}/v1/download/result/{id}{query}",
            $"{baseUrl}/v1/download/events/{id}{query}",
            token,
            retryOf);
        return Accepted($"/v1/download/status/{id}{query}", response);
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
                return Ok(JobDocuments.ToResult(job, linkSigner.ArchiveUrlOf(job)));
            }

            Response.Headers.RetryAfter = ResultRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return StatusCode(StatusCodes.Status202Accepted, JobDocuments.ToPending(job.Header));
        }, cancellationToken);

    /// <summary>Cancels the job: pending files are skipped, completed ones keep their links.</summary>
    [HttpDelete("{jobId}")]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.ControlPolicy)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Cancel(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.CancelAsync, job => job.Status == JobStatus.Cancelled, cancellationToken);

    /// <summary>No new file starts; the job is <c>paused</c> once no file is in flight.</summary>
    [HttpPost("{jobId}/pause")]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.ControlPolicy)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Pause(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.PauseAsync, JobTransitions.IsPausedOrPausing, cancellationToken);

    /// <summary>Processing goes on with the files not yet done.</summary>
    [HttpPost("{jobId}/resume")]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.ControlPolicy)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    [ProducesResponseType<JobStatusDocument>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public Task<IActionResult> Resume(string jobId, CancellationToken cancellationToken) =>
        ChangeAsync(jobId, commands.ResumeAsync, alreadyDone: _ => false, cancellationToken);

    /// <summary>Whether a file exists, and its size.</summary>
    [HttpPost("check")]
    [Authorize(Policy = AccessPolicies.ApiKey)]
    [EnableRateLimiting(ProtectionServiceCollectionExtensions.ControlPolicy)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests, "application/problem+json")]
    // One file id: a small body is all it takes.
    [RequestSizeLimit(1024)]
    [Consumes("application/json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status413PayloadTooLarge, "application/problem+json")]
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

        return await FindAsync(id, cancellationToken) is { } job ? await answer(job) : this.JobNotFound(id);
    }

    // Another API key's job, or another job's token, is answered as a job that does not exist.
    private async Task<DownloadJob?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await ledger.GetAsync(id, cancellationToken) is { } job && await authorization.MayAccessAsync(User, job) ? job : null;

    // The same check where the job itself is read later: the header alone says whose it is (O(1), not O(files)).
    private async Task<bool> MayAccessAsync(Guid id, CancellationToken cancellationToken) =>
        await ledger.GetHeaderAsync(id, cancellationToken) is { } header && await authorization.MayAccessAsync(User, header);

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

        // Another key's job is not found, and nothing of it changes.
        if (!await MayAccessAsync(id, cancellationToken))
        {
            return this.JobNotFound(id);
        }

        var update = await change(id, cancellationToken);
        if (update is null)
        {
            return this.JobNotFound(id);
        }

        if (!update.Changed && !alreadyDone(update.Job))
        {
            return this.JobStateConflict($"The job is {update.Job.Status.ToString().ToLowerInvariant()}{(update.Job.PauseRequested ? " (pausing)" : "")}; that is not allowed now.");
        }

        // The answer is the whole job as it stands after the change (O(files), like any status read).
        return await ledger.GetAsync(id, cancellationToken) is { } job
            ? StatusCode(StatusCodes.Status202Accepted, await StatusDocumentAsync(job, cancellationToken))
            : this.JobNotFound(id);
    }

    // The webhook's delivery state is not part of the job (it changes after the job's seq has ended): merged in here.
    private async Task<JobStatusDocument> StatusDocumentAsync(DownloadJob job, CancellationToken cancellationToken) =>
        JobDocuments.ToStatus(
            job,
            job.CallbackUrl is null ? null : WebhookDelivery.StateOf(job.Header, await webhookDeliveries.GetAsync(job.Id, cancellationToken)),
            linkSigner.ArchiveUrlOf(job));
}
