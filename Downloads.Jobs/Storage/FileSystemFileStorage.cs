using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Storage;

/// <summary>Files named <c>{file_id}.zip</c> in one folder. Ids are numbers, so no path can leave the folder.</summary>
public sealed class FileSystemFileStorage(IOptions<StorageOptions> options) : IFileStorage
{
    // Normalised: "/data/files/" and "/data/files" are the same root.
    private readonly string _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.Root ?? "."));

    public Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken)
    {
        try
        {
            var info = new FileInfo(PathOf(fileId));
            return Task.FromResult(info.Exists ? new StoredFile(fileId, info.Length, info.LastWriteTimeUtc) : null);
        }
        catch (IOException ex)
        {
            throw new TransientStorageException($"Cannot read file {fileId}.", ex);
        }
    }

    public Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(
                PathOf(fileId), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 81920, useAsync: true));
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (IOException ex)
        {
            throw new TransientStorageException($"Cannot open file {fileId}.", ex);
        }
    }

    private string PathOf(long fileId)
    {
        var path = Path.GetFullPath(Path.Combine(_root, $"{fileId}.zip"));
        return Path.GetDirectoryName(path) == _root
            ? path
            : throw new InvalidOperationException($"File {fileId} resolves outside the storage root.");
    }
}
