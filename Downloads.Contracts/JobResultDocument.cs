namespace Downloads.Contracts;

/// <summary>The answer of <c>GET /v1/download/result/{job_id}</c> once the job has ended.</summary>
public sealed record JobResultDocument(
    Guid JobId,
    JobStatus Status,
    IReadOnlyList<string> DownloadUrls,
    IReadOnlyList<ResultFile> Files,
    IReadOnlyList<FailedFile> Failed,
    DateTimeOffset? ExpiresAt,
    string? ArchiveUrl = null,
    Guid? RetryOf = null);

public sealed record ResultFile(long FileId, string DownloadUrl, long Size, string Sha256);

public sealed record FailedFile(long FileId, string? ErrorCode, string? Error);

/// <summary>The <c>202</c> answer of the result route while the job still runs.</summary>
public sealed record JobPendingDocument(Guid JobId, JobStatus Status, JobProgress Progress);
