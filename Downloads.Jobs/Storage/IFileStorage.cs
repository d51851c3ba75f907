namespace Downloads.Jobs.Storage;

/// <summary>Where the files behind the file ids live.</summary>
public interface IFileStorage
{
    /// <summary>The file's size and version, or <c>null</c> when there is no such file.</summary>
    /// <exception cref="TransientStorageException">The storage could not answer now; trying again may work.</exception>
    Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken);

    /// <summary>A seekable stream of the file's bytes, or <c>null</c> when there is no such file.</summary>
    Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken);

    /// <summary>Throws when the storage cannot serve files now (readiness); by default, a lookup of one file.</summary>
    Task ProbeAsync(CancellationToken cancellationToken) => FindAsync(ProbeFileId, cancellationToken);

    /// <summary>The file the default probe looks up.</summary>
    const long ProbeFileId = 70000;
}

/// <summary>A file in storage; <paramref name="Sha256"/> (lowercase hex) when the storage keeps it, else computed from the bytes.</summary>
public sealed record StoredFile(long FileId, long Size, DateTimeOffset LastModified, string? Sha256 = null);

/// <summary>
/// A fault that retrying will not fix (credentials refused, no such bucket): the file fails at once with
/// <see cref="ErrorCode"/>, and readiness reports it.
/// </summary>
public sealed class StorageAccessException(string errorCode, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The file's <c>error_code</c>, e.g. <c>storage_access_denied</c>.</summary>
    public string ErrorCode { get; } = errorCode;
}

/// <summary>A fault that may go away: retried with backoff, then recorded as the file's failure.</summary>
public sealed class TransientStorageException(string message, Exception? innerException = null)
    : Exception(message, innerException);
