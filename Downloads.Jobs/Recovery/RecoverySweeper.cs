using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Recovery;

/// <summary>
/// What makes a dead run's work go on, on every worker node, one sweep at a time across the cluster: the files of
/// runs whose lease expired go back to pending (ahead of the others, keeping their attempts), and when jobs wait in
/// the ready ring with no live run to take them (their run died, or the process that stored them died before
/// enqueueing one) a run is enqueued. Both are safe to do twice.
/// </summary>
public sealed partial class RecoverySweeper(
    IRunLeases leases,
    JobLedger ledger,
    BackgroundJobQueue backgroundJobs,
    WebhookTrigger webhooks,
    IOptions<RecoveryOptions> options,
    ILogger<RecoverySweeper> logger) : BackgroundService
{
    private const int MaxLeasesPerSweep = 100;

    private readonly string _name = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private TimeSpan Interval => options.Value.SweepInterval;

    /// <summary>One sweep, if this node leads now; for tests, which would rather not wait for the timer.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (!await leases.TryLeadSweepAsync(_name, Interval * 2, cancellationToken))
        {
            return;
        }

        var now = ledger.Time.GetUtcNow();
        foreach (var lease in await leases.ExpiredAsync(now, MaxLeasesPerSweep, cancellationToken))
        {
            await GiveBackAsync(lease, cancellationToken);
        }

        if (await ledger.AnyReadyAsync(cancellationToken) && !await leases.AnyAliveAsync(now, cancellationToken))
        {
            LogRunMissing(logger);
            await DownloadRun.EnqueueAsync(backgroundJobs, []);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, ledger.Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis down or slow, whatever the layer that noticed: the next sweep tries again. A sweep never stops
                // the host (a background service's exception would).
                LogSweepFailed(logger, ex);
            }
        }
    }

    // The run died holding files: each goes back to pending, where the ready ring offers it to the next run. A job the
    // run ended, but whose webhook it did not live to enqueue, gets it now.
    private async Task GiveBackAsync(ExpiredLease lease, CancellationToken cancellationToken)
    {
        var released = 0;
        foreach (var jobId in lease.JobIds)
        {
            if (await ledger.GetHeaderAsync(jobId, cancellationToken) is not { } job)
            {
                continue;
            }

            foreach (var file in job.InFlight.Where(f => f.Owner == lease.Owner))
            {
                var update = await ledger.UpdateFileAsync(
                    jobId, file.Index, (header, current, now) => JobTransitions.ReleaseFile(header, current, lease.Owner, now), cancellationToken);
                released += update is { Changed: true } ? 1 : 0;
                job = update?.Job ?? job;
            }

            await webhooks.EnsureDeliveryAsync(job, cancellationToken);
        }

        await leases.EndAsync(lease.Owner, cancellationToken);
        LogLeaseExpired(logger, lease.Owner, released, lease.JobIds.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {Owner} stopped renewing its lease: {Released} file(s) of {Jobs} job(s) given back")]
    private static partial void LogLeaseExpired(ILogger logger, string owner, int released, int jobs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jobs wait in the ready ring and no run is alive: a run is enqueued")]
    private static partial void LogRunMissing(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A recovery sweep failed; the next one tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
