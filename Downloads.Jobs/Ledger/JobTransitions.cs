using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>A recorded change: the job after it, how it is announced, and the file it concerns, if any.</summary>
public sealed record JobChange(DownloadJob Next, JobEventType Type, long? FileId = null);

/// <summary>
/// Every way a job may change, as pure functions of its current state. A <c>null</c> answer means
/// "nothing to record": the state does not allow it or it is already so. Being pure, they are
/// safe to re-evaluate when a concurrent writer wins the race, and safe for Hangfire to run twice.
/// </summary>
public static class JobTransitions
{
    public const string CancelledErrorCode = "cancelled";

    /// <summary>queued → processing, unless a pause came first.</summary>
    public static JobChange? Start(DownloadJob job, DateTimeOffset now) =>
        job.Status == JobStatus.Queued && !job.PauseRequested
            ? new JobChange(job with { Status = JobStatus.Processing, StartedAt = now }, JobEventType.Progress)
            : null;

    /// <summary>
    /// A run takes a pending file, within the job's parallelism. A re-run of the same Hangfire job (re-queued after
    /// a crash or a shutdown) takes its file back and counts a new attempt; another Hangfire job never does.
    /// An owner is <c>{hangfire job id}#{run id}</c>: when Hangfire delivers one job to two workers at once, the
    /// later claim wins and the earlier run, no longer the owner, stops at its next tick and cannot record an outcome.
    /// </summary>
    public static JobChange? ClaimFile(DownloadJob job, long fileId, string owner, int maxParallel, DateTimeOffset now)
    {
        if (job.Status != JobStatus.Processing || job.PauseRequested || FindFile(job, fileId) is not { } file)
        {
            return null;
        }

        var retaken = file.Status == FileStatus.Processing && file.Owner is { } held && SameHangfireJob(held, owner);
        var fresh = file.Status == FileStatus.Pending && job.InFlightCount < maxParallel;
        if (!retaken && !fresh)
        {
            return null;
        }

        var claimed = file with
        {
            Status = FileStatus.Processing,
            Owner = owner,
            Attempts = file.Attempts + 1,
            StartedAt = now,
            Fraction = 0,
            ErrorCode = null,
            Error = null,
        };
        return new JobChange(WithFile(job, claimed), JobEventType.Progress, fileId);
    }

    /// <summary>A transient fault: the owner tries the file again.</summary>
    public static JobChange? RetryFile(DownloadJob job, long fileId, string owner) =>
        OwnedFile(job, fileId, owner) is { } file
            ? new JobChange(WithFile(job, file with { Attempts = file.Attempts + 1, Fraction = 0 }), JobEventType.Progress, fileId)
            : null;

    /// <summary>Progress within a file; recorded at most once per <paramref name="minInterval"/> per job.</summary>
    public static JobChange? TickFile(
        DownloadJob job, long fileId, string owner, double fraction, DateTimeOffset now, TimeSpan minInterval)
    {
        if (OwnedFile(job, fileId, owner) is not { } file
            || fraction <= file.Fraction
            || (job.LastTickAt is { } last && now - last < minInterval))
        {
            return null;
        }

        var next = WithFile(job, file with { Fraction = Math.Clamp(fraction, 0, 1) }) with { LastTickAt = now };
        return new JobChange(next, JobEventType.Progress, fileId);
    }

    /// <summary>
    /// The owner finished the file. Every link of a job shares the job's <c>expires_at</c>, fixed by the first one.
    /// </summary>
    public static JobChange? CompleteFile(
        DownloadJob job,
        long fileId,
        string owner,
        long size,
        string sha256,
        DateTimeOffset now,
        TimeSpan linkLifetime,
        Func<DateTimeOffset, string> signLink)
    {
        if (OwnedFile(job, fileId, owner) is not { } file)
        {
            return null;
        }

        var expiresAt = job.ExpiresAt ?? now + linkLifetime;
        var completed = file with
        {
            Status = FileStatus.Completed,
            Owner = null,
            Fraction = 1,
            Size = size,
            Sha256 = sha256,
            DownloadUrl = signLink(expiresAt),
        };
        return Settle(WithFile(job, completed) with { ExpiresAt = expiresAt }, fileId, now);
    }

    /// <summary>The owner gave up on the file.</summary>
    public static JobChange? FailFile(DownloadJob job, long fileId, string owner, string errorCode, string error, DateTimeOffset now)
    {
        if (OwnedFile(job, fileId, owner) is not { } file)
        {
            return null;
        }

        var failed = file with { Status = FileStatus.Failed, Owner = null, Fraction = 1, ErrorCode = errorCode, Error = error };
        return Settle(WithFile(job, failed), fileId, now);
    }

    /// <summary>
    /// The owner's run was taken away (a shutdown or a deleted Hangfire job): the file goes back to pending, keeping
    /// its attempts, and a pause waiting for it completes.
    /// </summary>
    public static JobChange? ReleaseFile(DownloadJob job, long fileId, string owner, DateTimeOffset now) =>
        OwnedFile(job, fileId, owner) is { } file
            ? Settle(WithFile(job, file with { Status = FileStatus.Pending, Owner = null, Fraction = 0 }), fileId, now)
            : null;

    /// <summary>
    /// Ends the job at once: pending files and files in flight become skipped (their runs notice and stop);
    /// completed files keep their links.
    /// </summary>
    public static JobChange? Cancel(DownloadJob job, DateTimeOffset now)
    {
        if (job.Status.IsTerminal())
        {
            return null;
        }

        var files = job.Files.Select(f => f.Status switch
        {
            FileStatus.Pending => f with { Status = FileStatus.Skipped },
            FileStatus.Processing => f with
            {
                Status = FileStatus.Skipped,
                Owner = null,
                ErrorCode = CancelledErrorCode,
                Error = "The job was cancelled while the file was being prepared.",
            },
            _ => f,
        });
        var next = job with
        {
            Status = JobStatus.Cancelled,
            Files = [.. files],
            CompletedAt = now,
            PauseRequested = false,
        };
        return new JobChange(next, JobEventType.Cancelled);
    }

    /// <summary>No new file starts; the job is paused once no file is in flight.</summary>
    public static JobChange? Pause(DownloadJob job)
    {
        if (job.Status is not (JobStatus.Queued or JobStatus.Processing) || job.PauseRequested)
        {
            return null;
        }

        return job.InFlightCount == 0
            ? new JobChange(job with { Status = JobStatus.Paused }, JobEventType.Paused)
            : new JobChange(job with { PauseRequested = true }, JobEventType.Progress);
    }

    /// <summary>Processing goes on with the files not yet done.</summary>
    public static JobChange? Resume(DownloadJob job, DateTimeOffset now)
    {
        if (job.Status == JobStatus.Paused)
        {
            return new JobChange(job with { Status = JobStatus.Processing, StartedAt = job.StartedAt ?? now }, JobEventType.Resumed);
        }

        return job.PauseRequested
            ? new JobChange(job with { PauseRequested = false }, JobEventType.Resumed)
            : null;
    }

    /// <summary>Where <paramref name="job"/> allows a pause or is already pausing.</summary>
    public static bool IsPausedOrPausing(DownloadJob job) => job.Status == JobStatus.Paused || job.PauseRequested;

    /// <summary>The pending files a dispatcher should start now, in request order, within the free slots.</summary>
    public static IReadOnlyList<long> FilesToStart(DownloadJob job, int maxParallel)
    {
        if (job.Status != JobStatus.Processing || job.PauseRequested)
        {
            return [];
        }

        var free = maxParallel - job.InFlightCount;
        return free <= 0
            ? []
            : [.. job.Files.Where(f => f.Status == FileStatus.Pending).Take(free).Select(f => f.FileId)];
    }

    /// <summary>Overall progress: ended files count whole, files in flight by their fraction.</summary>
    public static double ComputePercent(DownloadJob job)
    {
        if (job.Files.Length == 0)
        {
            return 0;
        }

        var done = job.Files.Sum(f => f.Status.IsTerminal() ? 1 : f.Status == FileStatus.Processing ? f.Fraction : 0);
        return Math.Floor(done / job.Files.Length * 1000) / 10;
    }

    // After a file ended: the job ends when every file has, or pauses when a pause waits for the last file in flight.
    private static JobChange Settle(DownloadJob job, long fileId, DateTimeOffset now)
    {
        if (job.Files.All(f => f.Status.IsTerminal()))
        {
            var completed = job.Files.Any(f => f.Status == FileStatus.Completed);
            var ended = job with
            {
                Status = completed ? JobStatus.Completed : JobStatus.Failed,
                CompletedAt = now,
                PauseRequested = false,
            };
            return new JobChange(ended, completed ? JobEventType.Completed : JobEventType.Failed, fileId);
        }

        if (job.PauseRequested && job.InFlightCount == 0)
        {
            return new JobChange(job with { Status = JobStatus.Paused, PauseRequested = false }, JobEventType.Paused, fileId);
        }

        return new JobChange(job, JobEventType.Progress, fileId);
    }

    private static DownloadFile? FindFile(DownloadJob job, long fileId)
    {
        var index = job.IndexOf(fileId);
        return index < 0 ? null : job.Files[index];
    }

    /// <summary>The owner of one run of a Hangfire job: its id and a token of this run.</summary>
    public static string RunOwner(string hangfireJobId) => $"{hangfireJobId}#{Guid.NewGuid():N}";

    /// <summary>Whether two owners are runs of one Hangfire job.</summary>
    public static bool SameHangfireJob(string held, string claimant) =>
        held.AsSpan(0, IndexOfRun(held)).SequenceEqual(claimant.AsSpan(0, IndexOfRun(claimant)));

    private static int IndexOfRun(string owner) => owner.IndexOf('#', StringComparison.Ordinal) is >= 0 and var at ? at : owner.Length;

    private static DownloadFile? OwnedFile(DownloadJob job, long fileId, string owner) =>
        FindFile(job, fileId) is { Status: FileStatus.Processing } file && file.Owner == owner ? file : null;

    private static DownloadJob WithFile(DownloadJob job, DownloadFile file) =>
        job with { Files = job.Files.SetItem(job.IndexOf(file.FileId), file) };
}
