using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>Renders the stored job as the documents and events of the wire contract.</summary>
public static class JobDocuments
{
    /// <summary>
    /// The status document; <paramref name="webhook"/> is the delivery state, kept apart from the job (see <c>WebhookDelivery.StateOf</c>);
    /// <paramref name="archiveUrl"/> is signed when asked for, never stored (see <c>DownloadLinkSigner.ArchiveUrlOf</c>).
    /// </summary>
    public static JobStatusDocument ToStatus(DownloadJob job, WebhookState? webhook, string? archiveUrl = null) => new(
        job.Id,
        job.Status,
        job.Seq,
        job.CreatedAt,
        job.StartedAt,
        job.CompletedAt,
        ToProgress(job),
        ToResults(job),
        job.ExpiresAt,
        webhook,
        archiveUrl,
        job.RetryOf);

    public static JobProgress ToProgress(DownloadJob job) =>
        new(job.CompletedCount, job.FailedCount, job.Files.Length, job.Percent, job.CurrentFile);

    public static JobEvent ToEvent(DownloadJob job, JobEventType type, long? fileId = null)
    {
        var withResults = type is JobEventType.Snapshot or JobEventType.Completed or JobEventType.Failed or JobEventType.Cancelled;
        var index = fileId is { } id ? job.IndexOf(id) : -1;
        return new JobEvent(
            type,
            job.Id,
            job.Seq,
            job.Status,
            job.CompletedCount,
            job.FailedCount,
            job.Files.Length,
            job.CurrentFile,
            job.Percent,
            index < 0 ? null : ToResult(job.Files[index]),
            withResults ? ToResults(job) : null);
    }

    public static JobEvent ToSnapshot(DownloadJob job) => ToEvent(job, JobEventType.Snapshot);

    public static JobResultDocument ToResult(DownloadJob job, string? archiveUrl = null)
    {
        var completed = job.Files.Where(f => f is { Status: FileStatus.Completed, DownloadUrl: not null }).ToList();
        return new JobResultDocument(
            job.Id,
            job.Status,
            [.. completed.Select(f => f.DownloadUrl!)],
            [.. completed.Select(f => new ResultFile(f.FileId, f.DownloadUrl!, f.Size ?? 0, f.Sha256 ?? ""))],
            [.. job.Files.Where(f => f.Status is FileStatus.Failed or FileStatus.Skipped).Select(f => new FailedFile(f.FileId, f.ErrorCode ?? (f.Status == FileStatus.Skipped ? "skipped" : null), f.Error))],
            job.ExpiresAt,
            archiveUrl,
            job.RetryOf);
    }

    public static JobPendingDocument ToPending(DownloadJob job) => new(job.Id, job.Status, ToProgress(job));

    private static IReadOnlyList<FileResult> ToResults(DownloadJob job) => [.. job.Files.Select(ToResult)];

    private static FileResult ToResult(DownloadFile f) =>
        new(f.FileId, f.Status, f.DownloadUrl, f.Size, f.Sha256, f.Attempts, f.ErrorCode, f.Error);
}
