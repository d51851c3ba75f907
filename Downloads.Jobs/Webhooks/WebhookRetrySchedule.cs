using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// When the next attempt of a delivery is due: exponential backoff from <see cref="WebhookOptions.RetryBaseDelayMs"/>
/// with ±25 % jitter (so receivers that failed together are not hit together again), or the receiver's
/// <c>Retry-After</c>, both capped by <see cref="WebhookOptions.MaxRetryDelayMs"/>.
/// </summary>
public sealed class WebhookRetrySchedule(IOptions<WebhookOptions> options)
{
    private readonly WebhookOptions _options = options.Value;

    /// <summary>Whether another attempt may follow attempt number <paramref name="attempt"/>.</summary>
    public bool AllowsAnother(int attempt) => attempt < _options.MaxAttempts;

    /// <summary>Whether attempt number <paramref name="attempt"/> is past the limit (a re-run after a crash may get there).</summary>
    public bool IsBeyondLimit(int attempt) => attempt > _options.MaxAttempts;

    /// <summary>The wait after failed attempt number <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan DelayAfter(int attempt, TimeSpan? retryAfter)
    {
        var max = TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs);
        if (retryAfter is { } asked)
        {
            // Hangfire schedules to the whole second, rounding down: one second more never comes early.
            asked += TimeSpan.FromSeconds(1);
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > max ? max : asked;
        }

        var exponential = _options.RetryBaseDelayMs * Math.Pow(2, Math.Min(attempt - 1, 30));
        var jittered = exponential * (0.75 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _options.MaxRetryDelayMs));
    }
}
