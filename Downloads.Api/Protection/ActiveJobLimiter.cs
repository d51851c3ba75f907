using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Protection;

/// <summary>
/// Bounds what one client has not yet ended: its jobs (<c>MaxActiveJobsPerClient</c>) and their files
/// (<c>MaxActiveFilesPerClient</c>), so the work a client can queue is bounded, not only its requests. Kept in this
/// node's memory: a job leaves the count when its terminal event passes through this node, or, for jobs that ended
/// elsewhere, when the client is at a limit and the store says they ended. That check reads the client's jobs, so it
/// runs at most once per <see cref="RecheckInterval"/> per client: a flood of refused requests costs O(1) each.
/// Several nodes each allow the limits. It reads the store, not the ledger: as an event sink of the ledger's publisher
/// it must not depend on the ledger.
/// </summary>
public sealed class ActiveJobLimiter(IJobStore store, IOptions<RateLimitingOptions> options, TimeProvider timeProvider) : IJobEventSink
{
    /// <summary>How often a client at its limit has its jobs checked against the store.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientWork> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, string> _clientByJob = [];

    private RateLimitingOptions Limits => options.Value;

    private bool Off => Limits.MaxActiveJobsPerClient == 0 && Limits.MaxActiveFilesPerClient == 0;

    /// <summary>Whether <paramref name="client"/> may start another job of <paramref name="files"/> files now.</summary>
    public async Task<bool> MayStartAsync(string client, int files, CancellationToken cancellationToken)
    {
        if (Off || Allows(client, files))
        {
            return true;
        }

        if (!TryStartRecheck(client))
        {
            return false;
        }

        // At a limit: before refusing, drop the jobs that ended where this node did not see it.
        foreach (var jobId in Jobs(client))
        {
            if (await store.GetHeaderAsync(jobId, cancellationToken) is not { } job || job.Status.IsTerminal())
            {
                Forget(jobId);
            }
        }

        return Allows(client, files);
    }

    public void Track(string client, Guid jobId, int files)
    {
        if (Off)
        {
            return;
        }

        lock (_gate)
        {
            if (!_clients.TryGetValue(client, out var work))
            {
                _clients[client] = work = new ClientWork();
            }

            if (work.Jobs.TryAdd(jobId, files))
            {
                work.Files += files;
                _clientByJob[jobId] = client;
            }
        }
    }

    Task IJobEventSink.PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken)
    {
        if (jobEvent.Status.IsTerminal())
        {
            Forget(jobEvent.JobId);
        }

        return Task.CompletedTask;
    }

    private bool Allows(string client, int files)
    {
        lock (_gate)
        {
            var (jobs, active) = _clients.TryGetValue(client, out var work) ? (work.Jobs.Count, work.Files) : (0, 0);
            return (Limits.MaxActiveJobsPerClient == 0 || jobs < Limits.MaxActiveJobsPerClient)
                && (Limits.MaxActiveFilesPerClient == 0 || active + files <= Limits.MaxActiveFilesPerClient);
        }
    }

    private bool TryStartRecheck(string client)
    {
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (!_clients.TryGetValue(client, out var work) || now < work.NextRecheck)
            {
                return false;
            }

            work.NextRecheck = now + RecheckInterval;
            return true;
        }
    }

    private Guid[] Jobs(string client)
    {
        lock (_gate)
        {
            return _clients.TryGetValue(client, out var work) ? [.. work.Jobs.Keys] : [];
        }
    }

    private void Forget(Guid jobId)
    {
        lock (_gate)
        {
            if (_clientByJob.Remove(jobId, out var client) && _clients.TryGetValue(client, out var work)
                && work.Jobs.Remove(jobId, out var files))
            {
                work.Files -= files;
                if (work.Jobs.Count == 0)
                {
                    _clients.Remove(client);
                }
            }
        }
    }

    // A client's jobs not yet ended, with their files, and when it may next be checked against the store.
    private sealed class ClientWork
    {
        public Dictionary<Guid, int> Jobs { get; } = [];

        public int Files { get; set; }

        public DateTimeOffset NextRecheck { get; set; }
    }
}
