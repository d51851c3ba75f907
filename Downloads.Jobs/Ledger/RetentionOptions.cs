using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// <c>Downloads:Retention</c>: how long the service remembers jobs, in memory as in Redis, and how much the in-memory
/// store may hold. The same rules hold for every store: an ended job, its event log and its webhook record go
/// <see cref="Ended"/> after their last change; a job that never ends goes <see cref="MaxJobAge"/> after it was created;
/// an <c>Idempotency-Key</c> goes after <see cref="IdempotencyKeyLifetime"/>.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Downloads:Retention";

    /// <summary>The former setting of <see cref="Ended"/>, in whole hours; still read when <see cref="EndedJobs"/> is unset.</summary>
    public const string LegacyHoursSetting = "Downloads:Redis:RetentionHours";

    /// <summary>The idempotency window the contract promises (24 h), when jobs are kept at least as long.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <value>
    /// How long an ended job (its record, its event log and its webhook record) is kept after its last change;
    /// default 1 day (or <c>Downloads:Redis:RetentionHours</c>, the former whole-hour setting, when only that is set).
    /// </value>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan? EndedJobs { get; set; }

    /// <value>Whole hours of <see cref="EndedJobs"/>, bound from <c>Downloads:Redis:RetentionHours</c> for older configurations.</value>
    [Range(1, 24 * 365)]
    public int? RetentionHours { get; set; }

    /// <value>
    /// How long a job that never ends (paused and forgotten, or stranded) is kept after it was created; an ended job
    /// is kept <see cref="EndedJobs"/> after it ended, whatever its age. Default 7 days.
    /// </value>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxJobAge { get; set; } = TimeSpan.FromDays(7);

    /// <value>
    /// In memory (no Redis): most files the stored jobs may count together, ended ones included until they expire;
    /// beyond it initiate and retry answer 503 with <c>Retry-After</c>. A stored file with its events takes about
    /// 1–2 KB, so the default of 200,000 holds the store to a few hundred MB. Redis mode ignores it.
    /// </value>
    [Range(1, int.MaxValue)]
    public int MaxInMemoryFiles { get; set; } = 200_000;

    /// <summary>The retention of ended jobs that applies: <see cref="EndedJobs"/>, else the legacy hours, else 1 day.</summary>
    public TimeSpan Ended => EndedJobs ?? TimeSpan.FromHours(RetentionHours ?? 24);

    /// <summary>
    /// An <c>Idempotency-Key</c> lives the contract's 24 hours, or less when jobs are kept less long: a key never
    /// outlives the job it names (a job lives at least this long from its creation).
    /// </summary>
    public TimeSpan IdempotencyKeyLifetime => Min(IdempotencyWindow, Min(Ended, MaxJobAge));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
