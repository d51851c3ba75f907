using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Redis;

/// <summary>
/// <c>Downloads:Redis</c>: how the service uses Redis when <c>ConnectionStrings:Redis</c> is set.
/// Every node of one deployment must agree on <see cref="KeyPrefix"/>.
/// </summary>
public sealed class RedisOptions
{
    public const string Section = "Downloads:Redis";

    /// <summary>The connection string key: <c>ConnectionStrings:Redis</c>.</summary>
    public const string ConnectionStringName = "Redis";

    /// <value>
    /// Prefix of every key and channel the service uses (job records, Hangfire, the SignalR backplane), so
    /// several deployments (or tests) can share one Redis; default <c>downloads:</c>.
    /// </value>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9:_\-\.]{1,64}$")]
    public string KeyPrefix { get; set; } = "downloads:";

    /// <value>
    /// Connect, synchronous and asynchronous command timeout; a request answers 503 within about this long when
    /// Redis is down; default 2000 ms.
    /// </value>
    [Range(100, 30_000)]
    public int TimeoutMs { get; set; } = 2000;

    /// <value>
    /// Hangfire's invisibility timeout: a job fetched by a worker that died is run again after this long (plus up
    /// to a minute until Hangfire's next check). Must stay above the longest run: its budget (<c>RunBudget</c>, held
    /// below a quarter of this) plus one file's preparation (<c>DelayMaxMs</c> times its attempts); default 300 s.
    /// </value>
    [Range(5, 86_400)]
    public int InvisibilityTimeoutSeconds { get; set; } = 300;

    internal TimeSpan Timeout => TimeSpan.FromMilliseconds(TimeoutMs);

    internal TimeSpan InvisibilityTimeout => TimeSpan.FromSeconds(InvisibilityTimeoutSeconds);

    /// <summary>Hangfire's keys.</summary>
    internal string HangfirePrefix => KeyPrefix + "hangfire:";

    /// <summary>The SignalR backplane's channel prefix.</summary>
    public string SignalRChannelPrefix => KeyPrefix + "signalr";

    /// <summary>The channel every recorded job event is published on.</summary>
    internal string EventsChannel => KeyPrefix + "events";
}
