namespace Downloads.Contracts;

/// <summary>Where a download job stands: queued → processing → completed | failed | cancelled, and processing ⇄ paused.</summary>
public enum JobStatus
{
    Queued,
    Processing,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>Where one file of a job stands: pending → processing → completed | failed | skipped.</summary>
public enum FileStatus
{
    Pending,
    Processing,
    Completed,
    Failed,
    Skipped,
}

/// <summary>The kind of a <see cref="JobEvent"/>.</summary>
public enum JobEventType
{
    Snapshot,
    Progress,
    Paused,
    Resumed,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>Where the webhook delivery of a job stands.</summary>
public enum WebhookStatus
{
    Pending,
    Delivered,
    Failed,
}

public static class JobStatusExtensions
{
    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;

    public static bool IsTerminal(this FileStatus status) =>
        status is FileStatus.Completed or FileStatus.Failed or FileStatus.Skipped;
}
