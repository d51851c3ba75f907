namespace Downloads.Jobs.Recovery;

/// <summary>Leases of one process's runs. A lease expires here when its run stopped without ending it (it failed).</summary>
public sealed class InMemoryRunLeases(TimeProvider timeProvider) : IRunLeases
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (DateTimeOffset Until, HashSet<Guid> JobIds)> _leases = new(StringComparer.Ordinal);
    private (string Sweeper, DateTimeOffset Until)? _sweep;

    public Task RenewAsync(string owner, IReadOnlyCollection<Guid> jobIds, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobIds);
        lock (_gate)
        {
            var jobs = _leases.TryGetValue(owner, out var lease) ? lease.JobIds : [];
            jobs.UnionWith(jobIds);
            _leases[owner] = (until, jobs);
        }

        return Task.CompletedTask;
    }

    public Task EndAsync(string owner, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _leases.Remove(owner);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ExpiredLease>> ExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ExpiredLease>>(
                [.. _leases.Where(l => l.Value.Until <= now).Take(max).Select(l => new ExpiredLease(l.Key, [.. l.Value.JobIds]))]);
        }
    }

    public Task<bool> AnyAliveAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_leases.Values.Any(l => l.Until > now));
        }
    }

    public Task<bool> TryLeadSweepAsync(string sweeper, TimeSpan hold, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (_sweep is { } held && held.Sweeper != sweeper && held.Until > now)
            {
                return Task.FromResult(false);
            }

            _sweep = (sweeper, now + hold);
            return Task.FromResult(true);
        }
    }
}
