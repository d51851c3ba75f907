using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Links;

/// <summary><c>Downloads:Links</c>: signed, expiring download links.</summary>
public sealed class LinkOptions
{
    public const string Section = "Downloads:Links";

    /// <summary>Used when no key is configured, in Development only.</summary>
    public const string DevelopmentKey = "development-only-link-signing-key-change-me";

    /// <value>The HMAC key of download links; every node must share it. Required outside Development (32+ characters).</value>
    public string? SigningKey { get; set; }

    /// <value>How long download links live; default 3600 s.</value>
    [Range(10, 7 * 24 * 3600)]
    public int TtlSeconds { get; set; } = 3600;

    public TimeSpan Lifetime => TimeSpan.FromSeconds(TtlSeconds);
}
