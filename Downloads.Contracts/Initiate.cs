namespace Downloads.Contracts;

/// <summary>Body of <c>POST /v1/download/initiate</c>.</summary>
public sealed record InitiateDownloadRequest(IReadOnlyList<long>? FileIds, string? CallbackUrl);

/// <summary>
/// The <c>202 Accepted</c> answer to an initiate (or retry) request; every URL is absolute. <see cref="AccessToken"/> is a
/// secret scoped to this one job: where API keys are configured, it opens the job's routes in place of the key, and
/// every URL here carries it as <c>?access_token=</c>. <c>retry_of</c>: the retried job.
/// </summary>
public sealed record InitiateDownloadResponse(
    Guid JobId,
    JobStatus Status,
    int TotalFiles,
    string WebsocketUrl,
    string HubUrl,
    string StatusUrl,
    string ResultUrl,
    string EventsUrl,
    string AccessToken,
    Guid? RetryOf = null);

/// <summary>Body of <c>POST /v1/download/{job_id}/retry</c>: a subset of the job's failed files; absent or null, all of them.</summary>
public sealed record RetryDownloadRequest(IReadOnlyList<long>? FileIds);
