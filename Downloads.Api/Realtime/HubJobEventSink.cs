using Downloads.Contracts;
using Downloads.Jobs.Events;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>Adapts the job pipeline's events to the hub: one <c>update</c> to the job's group, on every node.</summary>
public sealed class HubJobEventSink(IHubContext<DownloadHub, IDownloadClient> hub) : IJobEventSink
{
    public Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken) =>
        hub.Clients.Group(DownloadHub.GroupName(jobEvent.JobId)).update(jobEvent);
}
