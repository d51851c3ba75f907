using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Storage;

public enum StorageKind
{
    /// <summary>A file exists when <c>file_id % 7 == 0</c>; its bytes are derived from its id.</summary>
    Synthetic,

    /// <summary>Files <c>{file_id}.zip</c> under <see cref="StorageOptions.Root"/>.</summary>
    Filesystem,

    /// <summary>Objects <c>{Prefix}{file_id}.zip</c> in an S3(-compatible) bucket, <see cref="StorageOptions.S3"/>.</summary>
    S3,
}

/// <summary><c>Downloads:Storage</c>.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Downloads:Storage";

    /// <value>Default <see cref="StorageKind.Synthetic"/>.</value>
    public StorageKind Kind { get; set; } = StorageKind.Synthetic;

    /// <value>The folder of <c>filesystem</c> storage; required for it.</value>
    public string? Root { get; set; }

    /// <value>
    /// Unset (default): each synthetic file's size is derived from its id (16 KiB to ~3 MiB). Set: every synthetic file
    /// has this size, so a benchmark of the pipeline's own cost (1024) is not hidden by hashing megabytes.
    /// </value>
    [Range(typeof(long), "0", "1099511627776")]
    public long? SyntheticSizeBytes { get; set; }

    /// <value>The bucket of <c>s3</c> storage (<c>Downloads:Storage:S3</c>).</value>
    public S3StorageOptions S3 { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Kind == StorageKind.Filesystem && string.IsNullOrWhiteSpace(Root))
        {
            yield return new ValidationResult("Downloads:Storage:Root is required when Kind is filesystem.", [nameof(Root)]);
        }

        if (Kind == StorageKind.S3)
        {
            foreach (var result in S3.Validate())
            {
                yield return result;
            }
        }
    }
}
