using System.Diagnostics;
using System.Threading.Channels;
using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>
/// Adapts the job pipeline's events to the hub: one <c>update</c> to the job's group, on every node. Subscriptions
/// are served by <see cref="HubReplayRelay"/>; the group holds the connections whose relay failed (Redis down).
/// A send is queued, not awaited: the ledger publishes while it holds the job's lock, and in Redis mode a group send
/// is a backplane round trip that would add to every change of the job. One queue, one sender, so a job's updates still leave in seq order.
/// </summary>
public sealed partial class HubJobEventSink : IJobEventSink, IAsyncDisposable
{
    private readonly IHubContext<DownloadHub, IDownloadClient> _hub;
    private readonly DownloadsMetrics _metrics;
    private readonly ILogger<HubJobEventSink> _logger;
    private readonly Channel<(JobEvent Event, ActivityContext Parent)> _queue = Channel.CreateUnbounded<(JobEvent, ActivityContext)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sender;

    public HubJobEventSink(IHubContext<DownloadHub, IDownloadClient> hub, DownloadsMetrics metrics, ILogger<HubJobEventSink> logger)
    {
        _hub = hub;
        _metrics = metrics;
        _logger = logger;
        _sender = Task.Run(SendAsync);
    }

    public Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken)
    {
        // The send stays in the trace of the change that made the event.
        _queue.Writer.TryWrite((jobEvent, Activity.Current?.Context ?? default));
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // Updates already queued still go out, if the backplane lets them within a few seconds.
        _queue.Writer.TryComplete();
        await _sender.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task SendAsync()
    {
        await foreach (var (jobEvent, parent) in _queue.Reader.ReadAllAsync())
        {
            using var activity = DownloadsTracing.Source.StartActivity("hub.send", ActivityKind.Internal, parent);
            activity?.SetTag("downloads.job_id", jobEvent.JobId.ToString("D"));
            activity?.SetTag("downloads.seq", jobEvent.Seq);
            try
            {
                await _hub.Clients.Group(DownloadHub.GroupName(jobEvent.JobId)).update(jobEvent);
                _metrics.HubMessageSent(jobEvent.Type);
            }
            catch (Exception ex)
            {
                // The change is committed; a client that misses this update sees the gap in seq and re-syncs.
                LogSendFailed(_logger, ex, jobEvent.JobId, jobEvent.Seq);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The hub update of job {JobId} seq {Seq} could not be sent; its clients re-sync from a snapshot")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, Guid jobId, long seq);
}
