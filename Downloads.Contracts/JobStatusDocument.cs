namespace Downloads.Contracts;

/// <summary>
/// The status document of a job (<c>GET /v1/download/status/{job_id}</c>); carries the <c>seq</c> it reflects.
/// <c>archive_url</c>: one ZIP of the completed files, once the job has ended with one; <c>retry_of</c>: the job whose
/// failed files this job retries.
/// </summary>
public sealed record JobStatusDocument(
    Guid JobId,
    JobStatus Status,
    long Seq,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    JobProgress Progress,
    IReadOnlyList<FileResult> Results,
    DateTimeOffset? ExpiresAt,
    WebhookState? Webhook,
    string? ArchiveUrl = null,
    Guid? RetryOf = null);

/// <summary>Counts of a job's files; <c>percent</c> only grows.</summary>
public sealed record JobProgress(int Completed, int Failed, int Total, double Percent, long? CurrentFile);

/// <summary>One file of a job, in the order of the request's <c>file_ids</c>.</summary>
public sealed record FileResult(
    long FileId,
    FileStatus Status,
    string? DownloadUrl,
    long? Size,
    string? Sha256,
    int Attempts,
    string? ErrorCode,
    string? Error);

/// <summary>The delivery state of a job's <c>callback_url</c>.</summary>
public sealed record WebhookState(WebhookStatus Status, int Attempts, int? LastStatusCode);
