using Downloads.Api.Http;
using Downloads.Jobs.Links;
using Downloads.Jobs.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Downloads.Api.Downloads;

/// <summary>
/// The download links of completed files: <c>GET|HEAD /v1/files/{file_id}?expires=…&amp;signature=…</c>.
/// Streams the bytes with ranges and validators; a changed signature is 403, an expired link 410.
/// </summary>
[ApiController]
[Route("v1/files")]
public sealed class FilesController(DownloadLinkSigner signer, IFileStorage storage) : ControllerBase
{
    [HttpGet("{fileId:long}")]
    [HttpHead("{fileId:long}")]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status206PartialContent)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status403Forbidden, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status410Gone, "application/problem+json")]
    public async Task<IActionResult> Download(long fileId, string? expires, string? signature, CancellationToken cancellationToken)
    {
        switch (signer.Check(fileId, expires, signature))
        {
            case LinkCheck.Forged:
                return this.ProblemResult(StatusCodes.Status403Forbidden, "Invalid link", "The link's signature does not match; ask the job for its download_url.");
            case LinkCheck.Expired:
                return this.ProblemResult(StatusCodes.Status410Gone, "Link expired", "The download link has expired; start a new job for a fresh one.");
        }

        if (await storage.FindAsync(fileId, cancellationToken) is not { } file
            || await storage.OpenReadAsync(fileId, cancellationToken) is not { } stream)
        {
            return this.ProblemResult(StatusCodes.Status404NotFound, "File not found", $"File {fileId} is no longer in storage.");
        }

        var etag = new EntityTagHeaderValue($"\"{fileId:x}-{file.Size:x}-{file.LastModified.ToUnixTimeSeconds():x}\"");
        return File(stream, "application/octet-stream", $"{fileId}.zip", file.LastModified, etag, enableRangeProcessing: true);
    }
}
