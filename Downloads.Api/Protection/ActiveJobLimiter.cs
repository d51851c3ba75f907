using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Protection;

/// <summary>
/// Bounds the jobs one client has not yet ended (<c>Downloads:RateLimiting:MaxActiveJobsPerClient</c>). Kept in
/// this node's memory: a job leaves the count when its terminal event passes through this node, or, for jobs that
/// ended elsewhere, when the client is at its limit and the store says they ended. Several nodes each allow the limit.
/// It reads the store, not the ledger: as an event sink of the ledger's publisher it must not depend on the ledger.
/// </summary>
public sealed class ActiveJobLimiter(IJobStore store, IOptions<RateLimitingOptions> options) : IJobEventSink
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<Guid>> _jobsByClient = [];
    private readonly Dictionary<Guid, string> _clientByJob = [];

    private int Limit => options.Value.MaxActiveJobsPerClient;

    /// <summary>Whether <paramref name="client"/> may start another job now.</summary>
    public async Task<bool> MayStartAsync(string client, CancellationToken cancellationToken)
    {
        if (Limit == 0 || Active(client).Length < Limit)
        {
            return true;
        }

        // At the limit: before refusing, drop the jobs that ended where this node did not see it.
        foreach (var jobId in Active(client))
        {
            if (await store.GetHeaderAsync(jobId, cancellationToken) is not { } job || job.Status.IsTerminal())
            {
                Forget(jobId);
            }
        }

        return Active(client).Length < Limit;
    }

    public void Track(string client, Guid jobId)
    {
        if (Limit == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_jobsByClient.TryGetValue(client, out var jobs))
            {
                _jobsByClient[client] = jobs = [];
            }

            jobs.Add(jobId);
            _clientByJob[jobId] = client;
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

    private Guid[] Active(string client)
    {
        lock (_gate)
        {
            return _jobsByClient.TryGetValue(client, out var jobs) ? [.. jobs] : [];
        }
    }

    private void Forget(Guid jobId)
    {
        lock (_gate)
        {
            if (_clientByJob.Remove(jobId, out var client) && _jobsByClient.TryGetValue(client, out var jobs))
            {
                jobs.Remove(jobId);
                if (jobs.Count == 0)
                {
                    _jobsByClient.Remove(client);
                }
            }
        }
    }
}
