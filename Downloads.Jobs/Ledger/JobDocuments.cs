using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>Renders the stored job as the documents and events of the wire contract.</summary>
public static class JobDocuments
{
    /// <summary>
    /// The status document; <paramref name="webhook"/> is the delivery state, kept apart from the job (see <c>WebhookDelivery.StateOf</c>);
    /// <paramref name="archiveUrl"/> is signed when asked for, never stored (see <c>DownloadLinkSigner.ArchiveUrlOf</c>).
    /// </summary>
    public static JobStatusDocument ToStatus(DownloadJob job, WebhookState? webhook, string? archiveUrl = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var header = job.Header;
        return new JobStatusDocument(
            header.Id,
            header.Status,
            header.Seq,
            header.CreatedAt,
            header.StartedAt,
            header.CompletedAt,
            ToProgress(header),
            ToResults(job),
            header.ExpiresAt,
            webhook,
            archiveUrl,
            header.RetryOf);
    }

    public static JobProgress ToProgress(JobHeader job) =>
        new(job.Completed, job.Failed, job.Total, job.Percent, job.CurrentFile);

    /// <summary>
    /// An event from the header and the file that changed: O(1). Snapshot and terminal events carry every file's
    /// result (<paramref name="results"/>), which the caller assembles once.
    /// </summary>
    public static JobEvent ToEvent(JobHeader job, JobEventType type, DownloadFile? file = null, IReadOnlyList<FileResult>? results = null) => new(
        type,
        job.Id,
        job.Seq,
        job.Status,
        job.Completed,
        job.Failed,
        job.Total,
        job.CurrentFile,
        job.Percent,
        file is null ? null : ToResult(file),
        results);

    /// <summary>Whether events of this type carry the whole <c>results</c> list.</summary>
    public static bool CarriesResults(JobEventType type) =>
        type is JobEventType.Snapshot or JobEventType.Completed or JobEventType.Failed or JobEventType.Cancelled;

    public static JobEvent ToSnapshot(DownloadJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return ToEvent(job.Header, JobEventType.Snapshot, results: ToResults(job));
    }

    public static JobResultDocument ToResult(DownloadJob job, string? archiveUrl = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var completed = job.Files.Where(f => f is { Status: FileStatus.Completed, DownloadUrl: not null }).ToList();
        return new JobResultDocument(
            job.Id,
            job.Status,
            [.. completed.Select(f => f.DownloadUrl!)],
            [.. completed.Select(f => new ResultFile(f.FileId, f.DownloadUrl!, f.Size ?? 0, f.Sha256 ?? ""))],
            [.. job.Files.Where(f => f.Status is FileStatus.Failed or FileStatus.Skipped).Select(f => new FailedFile(f.FileId, f.ErrorCode ?? (f.Status == FileStatus.Skipped ? "skipped" : null), f.Error))],
            job.Header.ExpiresAt,
            archiveUrl,
            job.Header.RetryOf);
    }

    public static JobPendingDocument ToPending(JobHeader job) => new(job.Id, job.Status, ToProgress(job));

    public static IReadOnlyList<FileResult> ToResults(DownloadJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return [.. job.Files.Select(ToResult)];
    }

    private static FileResult ToResult(DownloadFile f) =>
        new(f.FileId, f.Status, f.DownloadUrl, f.Size, f.Sha256, f.Attempts, f.ErrorCode, f.Error);
}
