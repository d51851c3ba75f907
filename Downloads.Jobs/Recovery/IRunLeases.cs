namespace Downloads.Jobs.Recovery;

/// <summary>
/// Leases of the runs that prepare files: a run holds one while it lives, renews it while it works, and lists in it
/// every job whose files it may hold, before it claims them. A lease that expires is a run that died: the
/// <see cref="RecoverySweeper"/> gives its files back. In Redis for a cluster, in memory for one process.
/// </summary>
public interface IRunLeases
{
    /// <summary>Extends <paramref name="owner"/>'s lease to <paramref name="until"/> and adds <paramref name="jobIds"/> to its jobs.</summary>
    Task RenewAsync(string owner, IReadOnlyCollection<Guid> jobIds, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Ends a lease: its run ended, or its files were given back.</summary>
    Task EndAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Leases that expired before <paramref name="now"/>, with their jobs; at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<ExpiredLease>> ExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Whether any run holds a live lease: something is taking files from the ready ring.</summary>
    Task<bool> AnyAliveAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>True for the one sweeper that may sweep now across the cluster, for <paramref name="hold"/>.</summary>
    Task<bool> TryLeadSweepAsync(string sweeper, TimeSpan hold, CancellationToken cancellationToken);
}

/// <summary>The lease of a run that stopped renewing it, and the jobs whose files it may still hold.</summary>
public sealed record ExpiredLease(string Owner, IReadOnlyList<Guid> JobIds);
