using System.Collections.Immutable;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// A recorded change: the header after it, how it is announced, and the file it concerns, if any.
/// <paramref name="Files"/> is set only by the rare change that rewrites every file (a cancel).
/// </summary>
public sealed record JobChange(JobHeader Next, JobEventType Type, DownloadFile? File = null, ImmutableArray<DownloadFile> Files = default);

/// <summary>
/// Every way a job may change, as pure functions of its header and, for a file's change, that one file: so a
/// change costs the same whatever the job's size. A <c>null</c> answer means "nothing to record": the state does
/// not allow it or it is already so. Being pure, they are safe to re-evaluate when a concurrent writer wins the
/// race, and safe for Hangfire to run twice.
/// </summary>
public static class JobTransitions
{
    public const string CancelledErrorCode = "cancelled";

    /// <summary>queued → processing, unless a pause came first.</summary>
    public static JobChange? Start(JobHeader job, DateTimeOffset now) =>
        job.Status == JobStatus.Queued && !job.PauseRequested
            ? new JobChange(job with { Status = JobStatus.Processing, StartedAt = now }, JobEventType.Progress)
            : null;

    /// <summary>
    /// The file a run should claim next, within the job's parallelism: a file given back first, then the next
    /// one in request order; <c>null</c> when none may start now.
    /// </summary>
    public static int? NextFile(JobHeader job, int maxParallel)
    {
        if (job.Status != JobStatus.Processing || job.PauseRequested || job.InFlight.Length >= maxParallel)
        {
            return null;
        }

        return !job.Released.IsEmpty ? job.Released[0] : job.NextPending < job.Total ? job.NextPending : null;
    }

    /// <summary>A file held by an earlier delivery of the run <paramref name="owner"/> belongs to (a crash re-run takes it back).</summary>
    public static int? HeldByEarlierDelivery(JobHeader job, string owner)
    {
        foreach (var file in job.InFlight)
        {
            if (file.Owner != owner && SameRun(file.Owner, owner))
            {
                return file.Index;
            }
        }

        return null;
    }

    /// <summary>
    /// A run takes a file: the next one (<see cref="NextFile"/>), or one an earlier delivery of the same run held
    /// (a re-run after a crash or a shutdown takes it back and counts a new attempt; another run never does).
    /// When Hangfire delivers one run twice at once, the later claim wins and the earlier delivery, no longer the
    /// owner, stops at its next tick and cannot record an outcome.
    /// </summary>
    public static JobChange? ClaimFile(JobHeader job, DownloadFile file, string owner, int maxParallel, DateTimeOffset now)
    {
        if (job.Status != JobStatus.Processing || job.PauseRequested)
        {
            return null;
        }

        var retaken = file.Status == FileStatus.Processing && file.Owner is { } held && held != owner && SameRun(held, owner);
        var fresh = file.Status == FileStatus.Pending && NextFile(job, maxParallel) is not null
            && (file.Index == job.NextPending || job.Released.Contains(file.Index));
        if (!retaken && !fresh)
        {
            return null;
        }

        var claimed = file with { Status = FileStatus.Processing, Owner = owner, Attempts = file.Attempts + 1, StartedAt = now, ErrorCode = null, Error = null };
        var next = WithoutInFlight(job, file.Index) with
        {
            NextPending = file.Index == job.NextPending ? job.NextPending + 1 : job.NextPending,
            Released = job.Released.Remove(file.Index),
        };
        next = next with { InFlight = next.InFlight.Add(new InFlightFile(file.Index, file.FileId, owner, now, 0)) };
        return new JobChange(next, JobEventType.Progress, claimed);
    }

    /// <summary>A transient fault: the owner tries the file again.</summary>
    public static JobChange? RetryFile(JobHeader job, DownloadFile file, string owner) =>
        Owns(job, file, owner)
            ? new JobChange(WithFraction(job, file.Index, 0), JobEventType.Progress, file with { Attempts = file.Attempts + 1 })
            : null;

    /// <summary>Progress within a file; recorded at most once per <paramref name="minInterval"/> per job.</summary>
    public static JobChange? TickFile(
        JobHeader job, DownloadFile file, string owner, double fraction, DateTimeOffset now, TimeSpan minInterval)
    {
        if (!Owns(job, file, owner)
            || fraction <= job.InFlightAt(file.Index)!.Fraction
            || (job.LastTickAt is { } last && now - last < minInterval))
        {
            return null;
        }

        return new JobChange(WithFraction(job, file.Index, Math.Clamp(fraction, 0, 1)) with { LastTickAt = now }, JobEventType.Progress, file);
    }

    /// <summary>
    /// The owner finished the file. Every link of a job shares the job's <c>expires_at</c>, fixed by the first one.
    /// </summary>
    public static JobChange? CompleteFile(
        JobHeader job,
        DownloadFile file,
        string owner,
        long size,
        string sha256,
        DateTimeOffset now,
        TimeSpan linkLifetime,
        Func<DateTimeOffset, string> signLink)
    {
        if (!Owns(job, file, owner))
        {
            return null;
        }

        var expiresAt = job.ExpiresAt ?? now + linkLifetime;
        var completed = file with { Status = FileStatus.Completed, Owner = null, Size = size, Sha256 = sha256, DownloadUrl = signLink(expiresAt) };
        var next = WithoutInFlight(job, file.Index) with { ExpiresAt = expiresAt, Completed = job.Completed + 1 };
        return Settle(next, completed, now);
    }

    /// <summary>The owner gave up on the file.</summary>
    public static JobChange? FailFile(JobHeader job, DownloadFile file, string owner, string errorCode, string error, DateTimeOffset now)
    {
        if (!Owns(job, file, owner))
        {
            return null;
        }

        var failed = file with { Status = FileStatus.Failed, Owner = null, ErrorCode = errorCode, Error = error };
        return Settle(WithoutInFlight(job, file.Index) with { Failed = job.Failed + 1 }, failed, now);
    }

    /// <summary>
    /// The owner's run was taken away (a shutdown or a deleted Hangfire job): the file goes back to pending, keeping
    /// its attempts, ahead of the files not yet started; a pause waiting for it completes.
    /// </summary>
    public static JobChange? ReleaseFile(JobHeader job, DownloadFile file, string owner, DateTimeOffset now)
    {
        if (!Owns(job, file, owner))
        {
            return null;
        }

        var released = file with { Status = FileStatus.Pending, Owner = null };
        return Settle(WithoutInFlight(job, file.Index) with { Released = job.Released.Add(file.Index) }, released, now);
    }

    /// <summary>
    /// Ends the job at once: pending files and files in flight become skipped (their runs notice and stop);
    /// completed files keep their links. The one change that touches every file: O(files), once per job.
    /// </summary>
    public static JobChange? Cancel(DownloadJob job, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
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
        }).ToImmutableArray();
        var next = job.Header with
        {
            Status = JobStatus.Cancelled,
            CompletedAt = now,
            PauseRequested = false,
            Skipped = job.Header.Total - job.Header.Completed - job.Header.Failed,
            NextPending = job.Header.Total,
            Released = [],
            InFlight = [],
        };
        return new JobChange(next, JobEventType.Cancelled, Files: files);
    }

    /// <summary>No new file starts; the job is paused once no file is in flight.</summary>
    public static JobChange? Pause(JobHeader job)
    {
        if (job.Status is not (JobStatus.Queued or JobStatus.Processing) || job.PauseRequested)
        {
            return null;
        }

        return job.InFlight.IsEmpty
            ? new JobChange(job with { Status = JobStatus.Paused }, JobEventType.Paused)
            : new JobChange(job with { PauseRequested = true }, JobEventType.Progress);
    }

    /// <summary>Processing goes on with the files not yet done.</summary>
    public static JobChange? Resume(JobHeader job, DateTimeOffset now)
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
    public static bool IsPausedOrPausing(JobHeader job) => job.Status == JobStatus.Paused || job.PauseRequested;

    /// <summary>Whether files are left that a run could start once others end (the job still needs a run).</summary>
    public static bool HasFilesToStart(JobHeader job) =>
        job.Status == JobStatus.Processing && !job.PauseRequested && (!job.Released.IsEmpty || job.NextPending < job.Total);

    /// <summary>
    /// Whether the job waits for a run to take its files: queued, or processing with files not yet started and no
    /// pause asked for. The stores keep exactly these jobs in the ready ring that runs take files from.
    /// </summary>
    public static bool IsReady(JobHeader job) =>
        job.Status == JobStatus.Queued ? !job.PauseRequested : HasFilesToStart(job);

    /// <summary>Overall progress: ended files count whole, files in flight by their fraction; never below what was recorded.</summary>
    public static double ComputePercent(JobHeader job)
    {
        if (job.Total == 0)
        {
            return job.Percent;
        }

        var done = job.Ended + job.InFlight.Sum(f => f.Fraction);
        return Math.Max(job.Percent, Math.Floor(done / job.Total * 1000) / 10);
    }

    /// <summary>Whether <paramref name="owner"/> holds <paramref name="file"/> now.</summary>
    public static bool Owns(JobHeader job, DownloadFile file, string owner) =>
        file.Status == FileStatus.Processing && file.Owner == owner && job.InFlightAt(file.Index)?.Owner == owner;

    /// <summary>The owner of one delivery of a run: the run's (Hangfire job's) id and a token of this delivery.</summary>
    public static string RunOwner(string runId) => $"{runId}#{Guid.NewGuid():N}";

    /// <summary>Whether two owners are deliveries of one run.</summary>
    public static bool SameRun(string held, string claimant) =>
        held.AsSpan(0, IndexOfDelivery(held)).SequenceEqual(claimant.AsSpan(0, IndexOfDelivery(claimant)));

    // After a file ended: the job ends when every file has, or pauses when a pause waits for the last file in flight.
    private static JobChange Settle(JobHeader job, DownloadFile file, DateTimeOffset now)
    {
        if (job.Ended == job.Total)
        {
            var completed = job.Completed > 0;
            var ended = job with
            {
                Status = completed ? JobStatus.Completed : JobStatus.Failed,
                CompletedAt = now,
                PauseRequested = false,
            };
            return new JobChange(ended, completed ? JobEventType.Completed : JobEventType.Failed, file);
        }

        if (job.PauseRequested && job.InFlight.IsEmpty)
        {
            return new JobChange(job with { Status = JobStatus.Paused, PauseRequested = false }, JobEventType.Paused, file);
        }

        return new JobChange(job, JobEventType.Progress, file);
    }

    private static int IndexOfDelivery(string owner) => owner.IndexOf('#', StringComparison.Ordinal) is >= 0 and var at ? at : owner.Length;

    private static JobHeader WithoutInFlight(JobHeader job, int index) =>
        job.InFlightAt(index) is { } entry ? job with { InFlight = job.InFlight.Remove(entry) } : job;

    private static JobHeader WithFraction(JobHeader job, int index, double fraction) =>
        job.InFlightAt(index) is { } entry ? job with { InFlight = job.InFlight.Replace(entry, entry with { Fraction = fraction }) } : job;
}
