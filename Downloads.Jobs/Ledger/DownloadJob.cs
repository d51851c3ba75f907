using System.Collections.Immutable;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// The stored state of a download job. Immutable: every change is a new value, committed by
/// <see cref="JobLedger"/> only when nobody else changed the job in between.
/// </summary>
public sealed record DownloadJob
{
    public required Guid Id { get; init; }

    /// <summary>Incremented by one on every recorded change; 1 when the job is created.</summary>
    public required long Seq { get; init; }

    public required JobStatus Status { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When the job's download links stop working; fixed when the first link is made.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The files, in the order of the request's <c>file_ids</c>.</summary>
    public required ImmutableArray<DownloadFile> Files { get; init; }

    /// <summary>Where the job's webhook goes when it ends; its delivery state lives in <c>IWebhookDeliveryStore</c>.</summary>
    public string? CallbackUrl { get; init; }

    /// <summary>Scheme and host the client used to initiate; download links are built on it.</summary>
    public required string PublicBaseUrl { get; init; }

    /// <summary>A pause was asked for while files were in flight; the job pauses when the last one ends.</summary>
    public bool PauseRequested { get; init; }

    /// <summary>Overall progress, 0–100; never decreases.</summary>
    public double Percent { get; init; }

    /// <summary>When the last within-file progress tick was recorded (ticks are throttled per job).</summary>
    public DateTimeOffset? LastTickAt { get; init; }

    /// <summary>The ended job whose failed files this job retries (<c>POST /v1/download/{job_id}/retry</c>).</summary>
    public Guid? RetryOf { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the initiate request; the job's background runs continue that trace.</summary>
    public string? TraceParent { get; init; }

    public int CompletedCount => Files.Count(f => f.Status == FileStatus.Completed);

    public int FailedCount => Files.Count(f => f.Status == FileStatus.Failed);

    public int InFlightCount => Files.Count(f => f.Status == FileStatus.Processing);

    /// <summary>The most recently started file still in flight.</summary>
    public long? CurrentFile => Files
        .Where(f => f.Status == FileStatus.Processing)
        .OrderByDescending(f => f.StartedAt)
        .Select(f => (long?)f.FileId)
        .FirstOrDefault();

    public int IndexOf(long fileId)
    {
        for (var i = 0; i < Files.Length; i++)
        {
            if (Files[i].FileId == fileId)
            {
                return i;
            }
        }

        return -1;
    }

    public static DownloadJob Create(
        Guid id, IReadOnlyList<long> fileIds, string? callbackUrl, string publicBaseUrl, DateTimeOffset now) => new()
        {
            Id = id,
            Seq = 1,
            Status = JobStatus.Queued,
            CreatedAt = now,
            Files = [.. fileIds.Select(DownloadFile.Pending)],
            CallbackUrl = callbackUrl,
            PublicBaseUrl = publicBaseUrl,
        };
}

/// <summary>The stored state of one file of a job.</summary>
public sealed record DownloadFile
{
    public required long FileId { get; init; }

    public required FileStatus Status { get; init; }

    /// <summary>Preparation attempts so far, retries and crash re-runs included.</summary>
    public int Attempts { get; init; }

    /// <summary>The run (Hangfire job id) that holds the file while it is processing; a re-run of the same id takes it over.</summary>
    public string? Owner { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Progress within the file while it is processing, 0–1.</summary>
    public double Fraction { get; init; }

    public string? DownloadUrl { get; init; }

    public long? Size { get; init; }

    public string? Sha256 { get; init; }

    public string? ErrorCode { get; init; }

    public string? Error { get; init; }

    public static DownloadFile Pending(long fileId) => new() { FileId = fileId, Status = FileStatus.Pending };
}
