using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Processing;

/// <summary><c>Downloads:Processing</c>: how files are prepared.</summary>
public sealed class ProcessingOptions : IValidatableObject
{
    public const string Section = "Downloads:Processing";

    /// <value>Shortest simulated preparation time per file; default 500 ms.</value>
    [Range(0, 600_000)]
    public int DelayMinMs { get; set; } = 500;

    /// <value>Longest simulated preparation time per file; default 2000 ms.</value>
    [Range(0, 600_000)]
    public int DelayMaxMs { get; set; } = 2000;

    /// <value>Files of one job in flight at once, so a large job cannot starve the others; default 4.</value>
    [Range(1, 64)]
    public int MaxParallelFilesPerJob { get; set; } = 4;

    /// <value>Preparation attempts per file before it fails; default 3.</value>
    [Range(1, 10)]
    public int MaxAttemptsPerFile { get; set; } = 3;

    /// <value>First retry delay; it doubles at each retry, with jitter; default 200 ms.</value>
    [Range(0, 60_000)]
    public int RetryBaseDelayMs { get; set; } = 200;

    /// <value>Least time between two recorded within-file progress ticks of a job; default 250 ms.</value>
    [Range(10, 60_000)]
    public int ProgressIntervalMs { get; set; } = 250;

    /// <value>
    /// How long one run (one Hangfire job) keeps taking new files before it hands over to a successor run; default 10 s.
    /// In Redis mode it is held below a quarter of <c>Downloads:Redis:InvisibilityTimeoutSeconds</c>, so no run is ever
    /// mistaken for a dead worker's.
    /// </value>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RunBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <value>
    /// How long one idle run of each process waits for new jobs before it ends (see <see cref="IdleRunSlot"/>), within its
    /// <see cref="RunBudget"/>; zero turns it off; default 2 s.
    /// </value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan IdleLinger { get; set; } = TimeSpan.FromSeconds(2);

    /// <value>Files one run prepares at once, across the download jobs it serves; default 64.</value>
    [Range(1, 1024)]
    public int MaxFilesPerRun { get; set; } = 64;

    /// <value>Most initiates stored together by one group commit (one write), and most jobs one run is enqueued for after it; default 256.</value>
    [Range(1, 4096)]
    public int MaxInitiateBatch { get; set; } = 256;

    /// <value>Hangfire workers of this process; default 20.</value>
    [Range(1, 1000)]
    public int WorkerCount { get; set; } = 20;

    /// <value>Threads that enqueue Hangfire jobs (Hangfire's storage blocks; see <see cref="BackgroundJobQueue"/>); default 8.</value>
    [Range(1, 64)]
    public int EnqueueThreads { get; set; } = 8;

    internal TimeSpan ProgressInterval => TimeSpan.FromMilliseconds(ProgressIntervalMs);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DelayMaxMs < DelayMinMs)
        {
            yield return new ValidationResult(
                "Downloads:Processing:DelayMaxMs must not be less than DelayMinMs.", [nameof(DelayMaxMs)]);
        }
    }
}
