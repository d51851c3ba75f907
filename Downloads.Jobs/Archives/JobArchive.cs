using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Storage;

namespace Downloads.Jobs.Archives;

/// <summary>
/// The whole-job archive behind <c>archive_url</c>: one ZIP of a job's completed files, entries <c>{file_id}.zip</c> in
/// the job's order, streamed from whatever storage holds them. Its length comes from the sizes the job recorded.
/// </summary>
public sealed class JobArchive(IFileStorage storage)
{
    /// <summary>The entries of the archive of <paramref name="job"/>: its completed files; empty when it has none.</summary>
    public static IReadOnlyList<ZipEntrySource> EntriesOf(DownloadJob job) =>
        [.. CompletedFiles(job).Select(f => new ZipEntrySource($"{f.FileId}.zip", f.Size!.Value))];

    public static long LengthOf(DownloadJob job) => StoredZip.LengthOf(EntriesOf(job));

    /// <summary>
    /// Streams the archive of <paramref name="job"/> to <paramref name="output"/>. A file that is gone from storage, or
    /// no longer has the size the job recorded, stops it with an <see cref="InvalidDataException"/>.
    /// </summary>
    public Task WriteAsync(Stream output, DownloadJob job, CancellationToken cancellationToken)
    {
        var files = CompletedFiles(job);
        return StoredZip.WriteAsync(
            output,
            EntriesOf(job),
            async (i, ct) => await storage.OpenReadAsync(files[i].FileId, ct)
                ?? throw new InvalidDataException($"File {files[i].FileId} is no longer in storage."),
            job.Header.CompletedAt ?? job.Header.CreatedAt,
            cancellationToken);
    }

    private static List<DownloadFile> CompletedFiles(DownloadJob job) =>
        [.. job.Files.Where(f => f is { Status: FileStatus.Completed, Size: not null })];
}
