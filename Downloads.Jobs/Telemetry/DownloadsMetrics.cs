using System.Diagnostics.Metrics;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Processing;
using Hangfire;

namespace Downloads.Jobs.Telemetry;

/// <summary>
/// The service's metrics (Meter <c>Downloads</c>), recorded where the facts happen: the ledger records job and
/// file outcomes once per committed change, the scheduler records initiates, the hub its connections and sends.
/// Prometheus names come out as <c>downloads_jobs_completed_total</c>, <c>downloads_file_duration_seconds</c>, ….
/// Other parts (webhooks, Redis) call <see cref="WebhookDelivered"/> and <see cref="RedisError"/>.
/// </summary>
public sealed class DownloadsMetrics
{
    public const string MeterName = "Downloads";

    // Jobs take from milliseconds (a queue hop) to an hour (1000 files); the SDK's default buckets are for milliseconds.
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    };

    private readonly Counter<long> _jobsInitiated;
    private readonly Counter<long> _jobsCompleted;
    private readonly Counter<long> _jobsFailed;
    private readonly Counter<long> _jobsCancelled;
    private readonly Counter<long> _files;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<double> _fileDuration;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _webhookDeliveries;
    private readonly UpDownCounter<long> _hubConnections;
    private readonly Counter<long> _hubMessages;
    private readonly Counter<long> _redisErrors;

    public DownloadsMetrics(IMeterFactory meterFactory, JobStorage hangfireStorage)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _jobsInitiated = meter.CreateCounter<long>("downloads.jobs.initiated", "{job}", "Download jobs created by initiate (replays excluded).");
        _jobsCompleted = meter.CreateCounter<long>("downloads.jobs.completed", "{job}", "Download jobs that ended completed.");
        _jobsFailed = meter.CreateCounter<long>("downloads.jobs.failed", "{job}", "Download jobs that ended failed (no file completed).");
        _jobsCancelled = meter.CreateCounter<long>("downloads.jobs.cancelled", "{job}", "Download jobs cancelled by their client.");
        _files = meter.CreateCounter<long>("downloads.files.processed", "{file}", "Files that ended, by outcome (completed, failed, skipped).");
        _jobDuration = meter.CreateHistogram("downloads.job.duration", "s", "Time from initiate to the job's end.", advice: SecondsBuckets);
        _fileDuration = meter.CreateHistogram("downloads.file.duration", "s", "Time from a file's claim to its end.", advice: SecondsBuckets);
        _queueWait = meter.CreateHistogram("downloads.queue.wait", "s", "Time from initiate to the job's dispatch by a worker.", advice: SecondsBuckets);
        _webhookDeliveries = meter.CreateCounter<long>("downloads.webhook.deliveries", "{delivery}", "Webhook delivery attempts, by outcome.");
        _hubConnections = meter.CreateUpDownCounter<long>("downloads.hub.connections", "{connection}", "Open hub connections, by transport.");
        _hubMessages = meter.CreateCounter<long>("downloads.hub.messages.sent", "{message}", "Job events sent to hub groups.");
        _redisErrors = meter.CreateCounter<long>("downloads.redis.errors", "{error}", "Failed Redis operations, by operation.");

        // Read at scrape time: one cheap monitoring call each.
        var monitor = new HangfireMonitor(hangfireStorage);
        meter.CreateObservableGauge("downloads.queue.depth", monitor.QueueDepth, "{job}", "Hangfire jobs waiting in the downloads queue.");
        meter.CreateObservableGauge("downloads.queue.oldest.age", monitor.OldestAge, "s", "Age of the oldest Hangfire job waiting in the downloads queue.");
        meter.CreateObservableGauge("downloads.hangfire.servers", monitor.AliveServers, "{server}", "Hangfire servers (workers) with a recent heartbeat.");
    }

    public void JobInitiated() => _jobsInitiated.Add(1);

    /// <summary>A webhook delivery attempt ended: <paramref name="outcome"/> is e.g. <c>delivered</c>, <c>retry</c>, <c>failed</c>.</summary>
    public void WebhookDelivered(string outcome) =>
        _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A Redis operation failed; <paramref name="operation"/> names what was tried (e.g. <c>job_store</c>, <c>backplane</c>).</summary>
    public void RedisError(string operation) =>
        _redisErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void HubConnected(string transport) => _hubConnections.Add(1, new KeyValuePair<string, object?>("transport", transport));

    public void HubDisconnected(string transport) => _hubConnections.Add(-1, new KeyValuePair<string, object?>("transport", transport));

    public void HubMessageSent(JobEventType type) =>
        _hubMessages.Add(1, new KeyValuePair<string, object?>("type", TypeName(type)));

    /// <summary>
    /// Records what one committed change did. Called once per commit by <see cref="JobLedger"/>, so every path
    /// (runner, cancel, crash re-run) counts exactly once.
    /// </summary>
    public void ChangeCommitted(JobHeader before, JobHeader after, DownloadFile? fileBefore, DownloadFile? fileAfter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Status == JobStatus.Queued && after.Status == JobStatus.Processing)
        {
            _queueWait.Record(Seconds(now - after.CreatedAt));
        }

        if (fileBefore is not null && fileAfter is not null)
        {
            FileEnded(fileBefore.Status, fileAfter.Status, before.InFlightAt(fileBefore.Index)?.StartedAt, now);
        }
        else if (after.Status.IsTerminal() && !before.Status.IsTerminal())
        {
            // A cancel ends many files in one change: those in flight, and those not started.
            foreach (var inFlight in before.InFlight)
            {
                FileEnded(FileStatus.Processing, FileStatus.Skipped, inFlight.StartedAt, now);
            }

            var notStarted = after.Skipped - before.Skipped - before.InFlight.Length;
            if (notStarted > 0)
            {
                _files.Add(notStarted, new KeyValuePair<string, object?>("outcome", "skipped"));
            }
        }

        if (after.Status.IsTerminal() && !before.Status.IsTerminal())
        {
            var counter = after.Status switch
            {
                JobStatus.Completed => _jobsCompleted,
                JobStatus.Failed => _jobsFailed,
                _ => _jobsCancelled,
            };
            counter.Add(1);
            _jobDuration.Record(Seconds(now - after.CreatedAt), new KeyValuePair<string, object?>("status", StatusName(after.Status)));
        }
    }

    private void FileEnded(FileStatus before, FileStatus after, DateTimeOffset? startedAt, DateTimeOffset now)
    {
        if (before.IsTerminal() || !after.IsTerminal())
        {
            return;
        }

        var outcome = new KeyValuePair<string, object?>("outcome", after.ToString().ToLowerInvariant());
        _files.Add(1, outcome);
        if (startedAt is { } started && before == FileStatus.Processing)
        {
            _fileDuration.Record(Seconds(now - started), outcome);
        }
    }

    private static double Seconds(TimeSpan span) => Math.Max(0, span.TotalSeconds);

    private static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();

    private static string TypeName(JobEventType type) => type.ToString().ToLowerInvariant();

    /// <summary>Scrape-time reads of Hangfire's monitoring API; a storage that does not answer yields no value.</summary>
    private sealed class HangfireMonitor(JobStorage storage)
    {
        public Measurement<long>[] QueueDepth() =>
            Read<long>(api => [new Measurement<long>(api.EnqueuedCount(DownloadRun.Queue))]);

        public Measurement<double>[] OldestAge() => Read<double>(api =>
        {
            var count = api.EnqueuedCount(DownloadRun.Queue);
            if (count == 0)
            {
                return [new Measurement<double>(0)];
            }

            // Storages list a queue in different orders: look at both ends, take the older.
            var ends = api.EnqueuedJobs(DownloadRun.Queue, 0, 1)
                .Concat(api.EnqueuedJobs(DownloadRun.Queue, (int)Math.Min(count - 1, int.MaxValue), 1));
            var oldest = ends.Select(j => j.Value?.EnqueuedAt).Where(at => at is not null).DefaultIfEmpty(DateTime.UtcNow).Min()!.Value;
            return [new Measurement<double>(Seconds(DateTime.UtcNow - oldest))];
        });

        public Measurement<long>[] AliveServers() => Read<long>(api =>
        {
            return [new Measurement<long>(HangfireServers.CountAlive(api, DateTime.UtcNow))];
        });

        private Measurement<T>[] Read<T>(Func<Hangfire.Storage.IMonitoringApi, Measurement<T>[]> read)
            where T : struct
        {
            try
            {
                return read(storage.GetMonitoringApi());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A scrape must not fail because Hangfire storage (Redis) is down; the health check says so.
                return [];
            }
        }
    }
}
