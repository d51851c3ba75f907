using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Storage;

/// <summary><c>Downloads:Storage:S3</c>: the bucket of <c>s3</c> storage; object <c>{Prefix}{file_id}.zip</c>.</summary>
public sealed class S3StorageOptions
{
    /// <value>The S3 endpoint, e.g. <c>http://127.0.0.1:4568</c> for s3rver or a MinIO URL; empty for AWS (from <see cref="Region"/>).</value>
    public string? ServiceUrl { get; set; }

    /// <value>The bucket's region (and the signing region of a <see cref="ServiceUrl"/>); empty: the AWS chain's, else <c>us-east-1</c>.</value>
    public string? Region { get; set; }

    /// <value>The bucket; required with <c>Kind=s3</c>.</value>
    public string? Bucket { get; set; }

    /// <value>Put before <c>{file_id}.zip</c> to make the object key, e.g. <c>exports/</c>; default empty.</value>
    public string Prefix { get; set; } = "";

    /// <value>Path-style URLs (<c>{endpoint}/{bucket}/{key}</c>), as most S3-compatible servers want; default false (virtual host).</value>
    public bool ForcePathStyle { get; set; }

    /// <value>With <see cref="SecretKey"/>: static credentials; both unset: the standard AWS credential chain.</value>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <value>The endpoint written into presigned links when clients reach the bucket under another name than the service does; default <see cref="ServiceUrl"/>.</value>
    public string? PublicServiceUrl { get; set; }

    /// <value>How long one S3 request may take before it counts as a transient failure; default 30 s.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public string KeyOf(long fileId) => $"{Prefix}{fileId}.zip";

    internal IEnumerable<ValidationResult> Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            yield return new ValidationResult("Downloads:Storage:S3:Bucket is required when Kind is s3.", [nameof(Bucket)]);
        }

        if (string.IsNullOrEmpty(AccessKey) != string.IsNullOrEmpty(SecretKey))
        {
            yield return new ValidationResult(
                "Downloads:Storage:S3:AccessKey and SecretKey go together: set both, or neither for the AWS credential chain.", [nameof(AccessKey)]);
        }

        foreach (var (name, url) in new[] { (nameof(ServiceUrl), ServiceUrl), (nameof(PublicServiceUrl), PublicServiceUrl) })
        {
            if (!string.IsNullOrEmpty(url) && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                yield return new ValidationResult($"Downloads:Storage:S3:{name} must be an absolute http or https URL.", [name]);
            }
        }

        if (RequestTimeout < TimeSpan.FromSeconds(1) || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Downloads:Storage:S3:RequestTimeout must be from 00:00:01 to 00:10:00.", [nameof(RequestTimeout)]);
        }
    }
}
