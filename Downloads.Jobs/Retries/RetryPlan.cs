using Downloads.Contracts;
using Downloads.Jobs.Ledger;

namespace Downloads.Jobs.Retries;

/// <summary>Why a retry request cannot make a job.</summary>
public enum RetryRefusal
{
    /// <summary>The job is still queued, processing or paused: its failures are not final yet (409).</summary>
    NotEnded,

    /// <summary>The job ended without a failed file (409).</summary>
    NothingFailed,

    /// <summary>The request lists a file that is not a failed file of the job (400, with the offending entries).</summary>
    NotFailedFiles,
}

/// <summary>The files a retry job gets, or why there is none; <see cref="Errors"/> keyed by JSON path for a 400.</summary>
public sealed record RetryPlan(IReadOnlyList<long> FileIds, RetryRefusal? Refusal, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>
    /// The retry of <paramref name="job"/>: its failed files in the job's order, or the ones <paramref name="requested"/>
    /// names, in the request's order. A listed id that is not a failed file of this job (completed, skipped, unknown or
    /// repeated) is a 400, not a 409: the job has ended, so no later state would make the request valid; it is bad input.
    /// </summary>
    public static RetryPlan For(DownloadJob job, IReadOnlyList<long>? requested)
    {
        if (!job.Status.IsTerminal())
        {
            return Refused(RetryRefusal.NotEnded);
        }

        var failed = job.Files.Where(f => f.Status == FileStatus.Failed).Select(f => f.FileId).ToList();
        if (failed.Count == 0)
        {
            return Refused(RetryRefusal.NothingFailed);
        }

        if (requested is null)
        {
            return new RetryPlan(failed, null, new Dictionary<string, string[]>());
        }

        var errors = new Dictionary<string, string[]>();
        if (requested.Count == 0)
        {
            errors["file_ids"] = ["must list at least one failed file of the job, or be left out to retry them all"];
        }

        var failedSet = failed.ToHashSet();
        var seen = new HashSet<long>();
        for (var i = 0; i < requested.Count; i++)
        {
            if (!failedSet.Contains(requested[i]))
            {
                errors[$"file_ids[{i}]"] = ["is not a failed file of this job"];
            }
            else if (!seen.Add(requested[i]))
            {
                errors[$"file_ids[{i}]"] = ["is listed twice"];
            }
        }

        return errors.Count > 0
            ? new RetryPlan([], RetryRefusal.NotFailedFiles, errors)
            : new RetryPlan(requested, null, errors);
    }

    private static RetryPlan Refused(RetryRefusal refusal) => new([], refusal, new Dictionary<string, string[]>());
}
