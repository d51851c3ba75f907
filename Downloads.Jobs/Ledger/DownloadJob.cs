using System.Collections.Immutable;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// What every change of a job reads and writes: status, seq, counters and the few files in flight, but never the
/// whole list of files. Its size does not grow with the job, so a change costs the same in a 1-file and a
/// 1000-file job. Immutable: every change is a new value, committed by <see cref="JobLedger"/> only when nobody
/// else changed the job in between.
/// </summary>
public sealed record JobHeader
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

    /// <summary>Where the job's webhook goes when it ends; its delivery state lives in <c>IWebhookDeliveryStore</c>.</summary>
    public string? CallbackUrl { get; init; }

    /// <summary>Scheme and host the client used to initiate; download links are built on it.</summary>
    public required string PublicBaseUrl { get; init; }

    /// <summary>The API key that created the job (its configured name); null in open mode. Only that key may see the job.</summary>
    public string? ApiKeyName { get; init; }

    /// <summary>
    /// Who the job is scheduled for: the API key (<c>key:{name}</c>) or the client's address. Runs take files
    /// round-robin across clients, then across each client's jobs, so one client cannot hold every worker.
    /// </summary>
    public string? Client { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the initiate request; the job's background runs continue that trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The ended job whose failed files this job retries (<c>POST /v1/download/{job_id}/retry</c>).</summary>
    public Guid? RetryOf { get; init; }

    /// <summary>A pause was asked for while files were in flight; the job pauses when the last one ends.</summary>
    public bool PauseRequested { get; init; }

    /// <summary>Overall progress, 0–100; never decreases.</summary>
    public double Percent { get; init; }

    /// <summary>When the last within-file progress tick was recorded (ticks are throttled per job).</summary>
    public DateTimeOffset? LastTickAt { get; init; }

    public required int Total { get; init; }

    public int Completed { get; init; }

    public int Failed { get; init; }

    public int Skipped { get; init; }

    /// <summary>The index of the first file no run has taken yet; every file from here on is pending.</summary>
    public int NextPending { get; init; }

    /// <summary>Indexes of files given back to pending (a shutdown, a deleted run); taken before <see cref="NextPending"/>.</summary>
    public ImmutableArray<int> Released { get; init; } = [];

    /// <summary>The files being prepared now, at most the job's parallelism: percent and current file come from here.</summary>
    public ImmutableArray<InFlightFile> InFlight { get; init; } = [];

    public int Ended => Completed + Failed + Skipped;

    /// <summary>The most recently started file still in flight.</summary>
    public long? CurrentFile => InFlight.IsEmpty ? null : InFlight.MaxBy(f => f.StartedAt)!.FileId;

    public InFlightFile? InFlightAt(int index)
    {
        foreach (var file in InFlight)
        {
            if (file.Index == index)
            {
                return file;
            }
        }

        return null;
    }
}

/// <summary>A file in flight as the header sees it: enough for percent, current file and a re-run's claim.</summary>
/// <param name="Owner">The run that holds the file (see <see cref="JobTransitions.RunOwner"/>).</param>
public sealed record InFlightFile(int Index, long FileId, string Owner, DateTimeOffset StartedAt, double Fraction);

/// <summary>The stored state of one file of a job: written only by the changes that concern it.</summary>
public sealed record DownloadFile
{
    /// <summary>Its position in the request's <c>file_ids</c>.</summary>
    public required int Index { get; init; }

    public required long FileId { get; init; }

    public required FileStatus Status { get; init; }

    /// <summary>Preparation attempts so far, retries and crash re-runs included.</summary>
    public int Attempts { get; init; }

    /// <summary>The run that holds the file while it is processing.</summary>
    public string? Owner { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public string? DownloadUrl { get; init; }

    public long? Size { get; init; }

    public string? Sha256 { get; init; }

    public string? ErrorCode { get; init; }

    public string? Error { get; init; }

    public static DownloadFile Pending(int index, long fileId) => new() { Index = index, FileId = fileId, Status = FileStatus.Pending };
}

/// <summary>
/// A whole job, header and every file: assembled on read for the status document, snapshots and terminal events
/// (O(files), once), never on the path of a single file's change.
/// </summary>
public sealed record DownloadJob(JobHeader Header, ImmutableArray<DownloadFile> Files)
{
    public Guid Id => Header.Id;

    public long Seq => Header.Seq;

    public JobStatus Status => Header.Status;

    public string? CallbackUrl => Header.CallbackUrl;

    public static DownloadJob Create(
        Guid id, IReadOnlyList<long> fileIds, string? callbackUrl, string publicBaseUrl, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(fileIds);
        var header = new JobHeader
        {
            Id = id,
            Seq = 1,
            Status = JobStatus.Queued,
            CreatedAt = now,
            CallbackUrl = callbackUrl,
            PublicBaseUrl = publicBaseUrl,
            Total = fileIds.Count,
        };
        return new DownloadJob(header, [.. fileIds.Select((fileId, index) => DownloadFile.Pending(index, fileId))]);
    }
}
