using System.ComponentModel.DataAnnotations;

namespace Downloads.Api.Protection;

/// <summary><c>Downloads:RateLimiting</c>: how much one client (by API key where keys are configured, else by IP address) may ask of the service.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "Downloads:RateLimiting";

    /// <summary>Initiate requests per client per minute; beyond it a 429 with <c>Retry-After</c>. <c>0</c> turns the limit off. Default 600.</summary>
    [Range(0, 1_000_000)]
    public int InitiatePerMinute { get; set; } = 600;

    /// <summary>
    /// Jobs one client may have not yet ended (queued, processing, paused); beyond it a 429. <c>0</c> turns the
    /// limit off. Counted per node, in process memory. Default 100.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxActiveJobsPerClient { get; set; } = 100;

    /// <summary>
    /// Files of the jobs one client has not yet ended (queued or in flight); a job that would go beyond it gets a
    /// 429. Bounds the work one client can queue, which fair scheduling then shares. <c>0</c> turns the limit off.
    /// Counted per node, in process memory. Default 10,000.
    /// </summary>
    [Range(0, 100_000_000)]
    public int MaxActiveFilesPerClient { get; set; } = 10_000;

    /// <summary>Cancel, pause, resume and check requests per client per minute; beyond it a 429. <c>0</c> turns the limit off. Default 300.</summary>
    [Range(0, 1_000_000)]
    public int ControlPerMinute { get; set; } = 300;

    /// <summary>
    /// Open event connections per client at once: SSE streams and SignalR connections (each counted once from connect to
    /// disconnect, whatever its transport; long polling too). Beyond it an SSE stream is a 429 and a hub connection is
    /// closed with the error <c>too many connections</c>. Counted per node. <c>0</c> turns the limit off. Default 100.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxConnectionsPerClient { get; set; } = 100;
}

/// <summary><c>Downloads:Cors</c>: browser origins allowed to call the API and the hub.</summary>
public sealed class CorsOptions
{
    public const string Section = "Downloads:Cors";

    /// <summary>Origins such as <c>https://app.example</c>. Default none: only the bundled client (same origin).</summary>
    public string[] AllowedOrigins { get; set; } = [];
}
