using Downloads.Jobs.Storage;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Downloads.Jobs.Processing;

/// <summary>
/// Retries of one file's preparation: transient storage faults only, exponential backoff with jitter,
/// <see cref="ProcessingOptions.MaxAttemptsPerFile"/> attempts in all. Built once, shared by every run.
/// </summary>
public sealed class FileRetryPolicy(IOptions<ProcessingOptions> options, TimeProvider timeProvider)
{
    public static readonly ResiliencePropertyKey<Func<ValueTask>> OnRetryKey = new("downloads.on-retry");

    public ResiliencePipeline Pipeline { get; } = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<TransientStorageException>().Handle<IOException>(),
            MaxRetryAttempts = options.Value.MaxAttemptsPerFile - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(Math.Max(1, options.Value.RetryBaseDelayMs)),
            OnRetry = args => args.Context.Properties.TryGetValue(OnRetryKey, out var onRetry) ? onRetry() : ValueTask.CompletedTask,
        })
        .Build();
}
