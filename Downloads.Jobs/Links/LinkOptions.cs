using System.ComponentModel.DataAnnotations;
using Downloads.Jobs.Storage;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Links;

/// <summary>Where a completed file's <c>download_url</c> sends the client.</summary>
public enum LinkMode
{
    /// <summary>This service's <c>/v1/files/…</c>, which streams the bytes from storage.</summary>
    Proxy,

    /// <summary>A presigned <c>GET</c> on the bucket (<c>s3</c> storage only): the bytes never pass through the service.</summary>
    Presigned,
}

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

    /// <value><c>presigned</c> or <c>proxy</c>; default <c>presigned</c> with <c>s3</c> storage, else <c>proxy</c>.</value>
    public LinkMode? Mode { get; set; }

    public LinkMode ModeFor(StorageKind storage) => Mode ?? (storage == StorageKind.S3 ? LinkMode.Presigned : LinkMode.Proxy);
}

/// <summary>Presigned links need a bucket: <c>Mode=presigned</c> with another storage kind is refused at start.</summary>
internal sealed class LinkModeValidator(IOptions<StorageOptions> storage) : IValidateOptions<LinkOptions>
{
    public ValidateOptionsResult Validate(string? name, LinkOptions options) =>
        options.Mode == LinkMode.Presigned && storage.Value.Kind != StorageKind.S3
            ? ValidateOptionsResult.Fail("Downloads:Links:Mode=presigned needs Downloads:Storage:Kind=s3.")
            : ValidateOptionsResult.Success;
}
