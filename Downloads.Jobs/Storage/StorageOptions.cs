using System.ComponentModel.DataAnnotations;

namespace Downloads.Jobs.Storage;

public enum StorageKind
{
    /// <summary>A file exists when <c>file_id % 7 == 0</c>; its bytes are derived from its id.</summary>
    Synthetic,

    /// <summary>Files <c>{file_id}.zip</c> under <see cref="StorageOptions.Root"/>.</summary>
    Filesystem,
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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Kind == StorageKind.Filesystem && string.IsNullOrWhiteSpace(Root))
        {
            yield return new ValidationResult("Downloads:Storage:Root is required when Kind is filesystem.", [nameof(Root)]);
        }
    }
}
