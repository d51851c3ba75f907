using System.Security.Cryptography;
using Downloads.Jobs.Storage;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Processing;

/// <summary>The outcome of preparing a file: what its download link serves.</summary>
public sealed record PreparedFile(long Size, string Sha256);

/// <summary>No file with that id exists; not worth retrying.</summary>
public sealed class FileNotFoundInStorageException(long fileId)
    : Exception($"File {fileId} does not exist in storage.");

/// <summary>
/// Prepares one file: finds it, spends the (simulated) preparation time reporting progress, and
/// hashes its bytes (unless storage knows their hash). One attempt; retries are the caller's.
/// </summary>
public sealed class FilePreparer(IFileStorage storage, IOptions<ProcessingOptions> options, TimeProvider timeProvider)
{
    private const int ProgressSteps = 10;

    public async Task<PreparedFile> PrepareAsync(long fileId, Func<double, Task> reportProgress, CancellationToken cancellationToken)
    {
        var found = await storage.FindAsync(fileId, cancellationToken) ?? throw new FileNotFoundInStorageException(fileId);

        var delay = PreparationTime();
        for (var step = 1; step <= ProgressSteps && delay > TimeSpan.Zero; step++)
        {
            await Task.Delay(delay / ProgressSteps, timeProvider, cancellationToken);
            await reportProgress((double)step / (ProgressSteps + 1));
        }

        // A bucket that keeps the object's SHA-256 saves reading it; otherwise its bytes are streamed through the hash.
        if (found.Sha256 is { } known)
        {
            return new PreparedFile(found.Size, known);
        }

        await using var stream = await storage.OpenReadAsync(fileId, cancellationToken)
            ?? throw new FileNotFoundInStorageException(fileId);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken);
        return new PreparedFile(stream.Length, Convert.ToHexStringLower(hash));
    }

    private TimeSpan PreparationTime()
    {
        var (min, max) = (options.Value.DelayMinMs, options.Value.DelayMaxMs);
        return TimeSpan.FromMilliseconds(min >= max ? min : Random.Shared.Next(min, max + 1));
    }
}
