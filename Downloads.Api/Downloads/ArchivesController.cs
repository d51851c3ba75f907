using System.Globalization;
using Downloads.Api.Http;
using Downloads.Jobs.Archives;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Downloads.Api.Downloads;

/// <summary>
/// The whole-job archive: <c>GET|HEAD /v1/archives/{job_id}?expires=…&amp;signature=…</c>, the job's <c>archive_url</c>.
/// One ZIP of the completed files, streamed from storage with its exact length up front; a changed signature is 403,
/// an expired link 410.
/// </summary>
[ApiController]
[Route("v1/archives")]
public sealed partial class ArchivesController(DownloadLinkSigner signer, JobLedger ledger, JobArchive archive, ILogger<ArchivesController> logger)
    : ControllerBase
{
    [HttpGet("{jobId}")]
    [HttpHead("{jobId}")]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status403Forbidden, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status410Gone, "application/problem+json")]
    public async Task<IActionResult> Download(string jobId, string? expires, string? signature, CancellationToken cancellationToken)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            return this.MalformedJobId(jobId);
        }

        switch (signer.CheckArchive(id, expires, signature))
        {
            case LinkCheck.Forged:
                return this.ProblemResult(StatusCodes.Status403Forbidden, "Invalid link", "The link's signature does not match; ask the job for its archive_url.");
            case LinkCheck.Expired:
                return this.ProblemResult(StatusCodes.Status410Gone, "Link expired", "The archive link has expired; start a new job for a fresh one.");
        }

        // A signed link is only made for an ended job with a completed file, and an ended job does not change.
        if (await ledger.GetAsync(id, cancellationToken) is not { } job || JobArchive.EntriesOf(job).Count == 0)
        {
            return this.ProblemResult(StatusCodes.Status404NotFound, "Archive not found", $"Job {id} has no completed file to archive (or has expired).");
        }

        Response.ContentType = "application/zip";
        Response.ContentLength = JobArchive.LengthOf(job);
        Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"{id:D}.zip" }.ToString();
        Response.Headers.LastModified = (job.Header.CompletedAt ?? job.Header.CreatedAt).ToString("R", CultureInfo.InvariantCulture);
        if (HttpMethods.IsHead(Request.Method))
        {
            return new EmptyResult();
        }

        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await archive.WriteAsync(Response.Body, job, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or TransientStorageException or StorageAccessException)
        {
            // The headers are sent: all that is left is to cut the response short, so the client sees a broken download.
            LogArchiveBroken(logger, ex, id);
            HttpContext.Abort();
        }

        return new EmptyResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The archive of job {JobId} was cut short: a file is no longer in storage as the job recorded it, or storage failed")]
    private static partial void LogArchiveBroken(ILogger logger, Exception exception, Guid jobId);
}
