using Downloads.Contracts;

namespace Downloads.Client;

/// <summary>
/// The answer of <c>GET /v1/download/result/{job_id}</c>: <see cref="Document"/> once the job has ended, else
/// <see cref="Pending"/> with the wait the service suggests.
/// </summary>
public sealed record JobResult(JobResultDocument? Document, JobPendingDocument? Pending, TimeSpan? RetryAfter)
{
    public bool Ended => Document is not null;
}
