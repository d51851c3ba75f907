using Downloads.Api.Downloads;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>
/// The download hub. At <c>/ws/download/{job_id}</c> a connection follows that job from the start;
/// at <c>/ws/download</c> it calls <see cref="Subscribe"/> and <see cref="Unsubscribe"/>. Events
/// reach clients as <c>update</c>, sent to the job's group by whichever process records them.
/// </summary>
public sealed class DownloadHub(JobLedger ledger, DownloadsMetrics metrics) : Hub<IDownloadClient>
{
    public const string Path = "/ws/download";

    /// <summary>How many jobs one connection may follow.</summary>
    public const int MaxSubscriptionsPerConnection = 100;

    private const string SubscriptionsKey = "downloads.subscriptions";
    private const string TransportKey = "downloads.transport";

    public static string GroupName(Guid jobId) => $"job:{jobId:D}";

    public override async Task OnConnectedAsync()
    {
        // Read the id from the path: over long polling the hub's HttpContext carries no route values.
        var path = Context.GetHttpContext()?.Request.Path.Value ?? "";
        var suffix = path.Length > Path.Length ? path[(Path.Length + 1)..].Trim('/') : "";
        if (suffix.Length > 0)
        {
            if (!JobIds.TryParse(suffix, out var jobId))
            {
                throw new HubException("job not found");
            }

            await SubscribeCoreAsync(jobId);
        }

        await base.OnConnectedAsync();

        // Counted last: when this method throws (unknown job) SignalR does not call OnDisconnectedAsync.
        var transport = Context.Features.Get<IHttpTransportFeature>()?.TransportType.ToString().ToLowerInvariant() ?? "unknown";
        Context.Items[TransportKey] = transport;
        metrics.HubConnected(transport);
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(TransportKey, out var transport) && transport is string name)
        {
            metrics.HubDisconnected(name);
        }

        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Follows a job: answered with its <c>snapshot</c>, then every <c>update</c>.</summary>
    public async Task Subscribe(string jobId)
    {
        if (!JobIds.TryParse(jobId, out var id))
        {
            throw new HubException("invalid job id");
        }

        await SubscribeCoreAsync(id);
    }

    public async Task Unsubscribe(string jobId)
    {
        if (JobIds.TryParse(jobId, out var id))
        {
            Subscriptions.Remove(id);
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupName(id), Context.ConnectionAborted);
        }
    }

    private HashSet<Guid> Subscriptions =>
        (HashSet<Guid>)(Context.Items.TryGetValue(SubscriptionsKey, out var set) ? set! : Context.Items[SubscriptionsKey] = new HashSet<Guid>());

    // Snapshot first, then the group, then a fresh snapshot if the job moved in between: the client's first
    // message is always the snapshot, and nothing recorded before it joined the group is lost.
    private async Task SubscribeCoreAsync(Guid jobId)
    {
        var cancellationToken = Context.ConnectionAborted;
        var job = await ledger.GetAsync(jobId, cancellationToken) ?? throw new HubException("job not found");
        if (!Subscriptions.Contains(jobId) && Subscriptions.Count >= MaxSubscriptionsPerConnection)
        {
            throw new HubException($"a connection may follow at most {MaxSubscriptionsPerConnection} jobs");
        }

        await Clients.Caller.update(JobDocuments.ToSnapshot(job));
        Subscriptions.Add(jobId);
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupName(jobId), cancellationToken);

        if (await ledger.GetAsync(jobId, cancellationToken) is { } latest && latest.Seq > job.Seq)
        {
            await Clients.Caller.update(JobDocuments.ToSnapshot(latest));
        }
    }
}
