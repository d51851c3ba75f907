using System.Collections.Concurrent;
using Downloads.Jobs.Storage;

namespace Downloads.Tests.Infrastructure;

/// <summary>Counts how often each file's bytes are read (once per preparation), across every node that shares <paramref name="opened"/>.</summary>
public sealed class CountingFileStorage(IFileStorage inner, ConcurrentDictionary<long, int> opened) : IFileStorage
{
    public Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken) => inner.FindAsync(fileId, cancellationToken);

    public Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken)
    {
        opened.AddOrUpdate(fileId, 1, (_, count) => count + 1);
        return inner.OpenReadAsync(fileId, cancellationToken);
    }
}
