using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Webhooks;

/// <summary><c>Downloads:Webhooks</c>: signed callback POSTs when a job ends.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Downloads:Webhooks";

    /// <summary>Used when no secret is configured, in Development only.</summary>
    public const string DevelopmentSecret = "whsec_ZG93bmxvYWRzLWRldmVsb3BtZW50LW9ubHktd2ViaG9vay1rZXkhIQ==";

    /// <value>
    /// The Standard Webhooks secret (<c>whsec_{base64}</c>) that signs deliveries in open mode (API keys have their own).
    /// Required outside Development.
    /// </value>
    public string? SigningSecret { get; set; }

    /// <value>Allow callbacks to loopback, private, link-local and other non-public addresses; default false.</value>
    public bool AllowPrivateNetworks { get; set; }

    /// <value>
    /// Ports a callback may use: a comma-separated list, or <c>*</c> for any. Default <c>80,443</c>, so a callback cannot
    /// reach other services (SSH, Redis, admin ports) of a public host.
    /// </value>
    [RegularExpression(@"^\s*(\*|\d{1,5}(\s*,\s*\d{1,5})*)\s*$", ErrorMessage = "Downloads:Webhooks:AllowedPorts must be a comma-separated list of ports, or *.")]
    public string AllowedPorts { get; set; } = "80,443";

    /// <summary>Whether a callback may use <paramref name="port"/>.</summary>
    public bool AllowsPort(int port) =>
        AllowedPorts.Trim() == "*"
        || AllowedPorts.Split(',', StringSplitOptions.TrimEntries).Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <value>Sends of one delivery before it is recorded as failed; default 6.</value>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    /// <value>
    /// Delay before the second attempt; it doubles at each further attempt, with ±25 % jitter, capped by
    /// <see cref="MaxRetryDelayMs"/>. Default 20 s: with 6 attempts the window is about 10 minutes (20+40+80+160+300 s).
    /// </value>
    [Range(0, 3_600_000)]
    public int RetryBaseDelayMs { get; set; } = 20_000;

    /// <value>Longest wait between two attempts, <c>Retry-After</c> included; default 300 s.</value>
    [Range(0, 3_600_000)]
    public int MaxRetryDelayMs { get; set; } = 300_000;

    /// <value>How long one attempt may take, connect to response headers; default 10 s.</value>
    [Range(50, 120_000)]
    public int AttemptTimeoutMs { get; set; } = 10_000;

    /// <value>Bound on the DNS lookup that vets a <c>callback_url</c> at initiate; default 2 s. A lookup that fails or times out is accepted there and vetted again at delivery.</value>
    [Range(10, 10_000)]
    public int InitiateLookupTimeoutMs { get; set; } = 2_000;

    /// <value>Hangfire workers for deliveries, apart from the download workers so a slow receiver never holds up files; default 10.</value>
    [Range(1, 200)]
    public int WorkerCount { get; set; } = 10;

    public TimeSpan AttemptTimeout => TimeSpan.FromMilliseconds(AttemptTimeoutMs);
}
