using System.Collections.Concurrent;
using Downloads.Contracts;

namespace Downloads.Jobs.Ledger;

/// <summary>
/// What this process last read or committed of the jobs it changes: the header and the files not yet ended. It is a
/// guess of the stored job that saves the read before a change, never a source of truth: every change increments
/// <c>seq</c>, and a commit succeeds only while the stored seq is the one it was derived from, so a decision made on a
/// guess that commits was made on the stored state. An entry is only changed under the ledger's lock for its job.
/// </summary>
internal sealed class RecentJobs(int capacity)
{
    private readonly ConcurrentDictionary<Guid, Entry> _jobs = new();

    public JobHeader? Header(Guid jobId) => _jobs.TryGetValue(jobId, out var entry) ? entry.Header : null;

    public (JobHeader Header, DownloadFile File)? File(Guid jobId, int index) =>
        _jobs.TryGetValue(jobId, out var entry) && entry.Files.TryGetValue(index, out var file) ? (entry.Header, file) : null;

    /// <summary>The job as a read found it: files kept from before stay only if they are of the same state (seq).</summary>
    public void Read(JobHeader header, IEnumerable<DownloadFile> files) => Keep(header, files, header.Seq);

    /// <summary>The job as this process's commit left it: files kept from the state it was derived from stay.</summary>
    public void Committed(JobHeader header, IEnumerable<DownloadFile> files) => Keep(header, files, header.Seq - 1);

    public void Forget(Guid jobId) => _jobs.TryRemove(jobId, out _);

    // Ended files are dropped (no run changes them again) and an ended job is forgotten, which bounds the memory.
    private void Keep(JobHeader header, IEnumerable<DownloadFile> files, long seqOfKeptFiles)
    {
        if (header.Status.IsTerminal())
        {
            Forget(header.Id);
            return;
        }

        if (!_jobs.TryGetValue(header.Id, out var entry) || entry.Header.Seq != seqOfKeptFiles)
        {
            // Only a bound: a forgotten job is read again from the store.
            if (_jobs.Count >= capacity)
            {
                _jobs.Clear();
            }

            entry = _jobs[header.Id] = new Entry(header);
        }

        entry.Header = header;
        foreach (var file in files)
        {
            if (file.Status.IsTerminal())
            {
                entry.Files.Remove(file.Index);
            }
            else
            {
                entry.Files[file.Index] = file;
            }
        }
    }

    private sealed class Entry(JobHeader header)
    {
        public JobHeader Header { get; set; } = header;

        public Dictionary<int, DownloadFile> Files { get; } = [];
    }
}
