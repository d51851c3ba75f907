namespace Downloads.Jobs.Storage;

/// <summary>Where the files behind the file ids live.</summary>
public interface IFileStorage
{
    /// <summary>The file's size and version, or <c>null</c> when there is no such file.</summary>
    /// <exception cref="TransientStorageException">The storage could not answer now; trying again may work.</exception>
    Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken);

    /// <summary>A seekable stream of the file's bytes, or <c>null</c> when there is no such file.</summary>
    Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken);
}

public sealed record StoredFile(long FileId, long Size, DateTimeOffset LastModified);

/// <summary>A fault that may go away: retried with backoff, then recorded as the file's failure.</summary>
public sealed class TransientStorageException(string message, Exception? innerException = null)
    : Exception(message, innerException);
