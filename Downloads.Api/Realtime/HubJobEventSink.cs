using Downloads.Contracts;
using Downloads.Jobs.Events;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>
/// Adapts the job pipeline's events to the hub: one <c>update</c> to the job's group, on every node. Subscriptions
/// are served by <see cref="HubReplayRelay"/>; the group holds the connections whose relay failed (Redis down).
/// </summary>
public sealed class HubJobEventSink(IHubContext<DownloadHub, IDownloadClient> hub, DownloadsMetrics metrics) : IJobEventSink
{
    public async Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken)
    {
        using var activity = DownloadsTracing.Source.StartActivity("hub.send");
        activity?.SetTag("downloads.job_id", jobEvent.JobId.ToString("D"));
        activity?.SetTag("downloads.seq", jobEvent.Seq);
        await hub.Clients.Group(DownloadHub.GroupName(jobEvent.JobId)).update(jobEvent);
        metrics.HubMessageSent(jobEvent.Type);
    }
}
