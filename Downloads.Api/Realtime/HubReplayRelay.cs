using Downloads.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>
/// Sends a subscription's live events (<c>Subscribe</c> and <c>SubscribeFrom</c> alike) to its one connection, in
/// seq order, until the job ends, the connection closes or the client unsubscribes. It outlives the hub instance,
/// which lives for one call.
/// </summary>
public sealed partial class HubReplayRelay(IHubContext<DownloadHub, IDownloadClient> hub, ILogger<HubReplayRelay> logger)
{
    /// <summary>Starts relaying; cancel the returned source to stop (it is linked to <paramref name="connectionAborted"/>).</summary>
    public CancellationTokenSource Start(string connectionId, JobEventCursor cursor, CancellationToken connectionAborted)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connectionAborted);
        // Runs for the life of the subscription; RelayAsync handles every failure itself.
        _ = RelayAsync(connectionId, cursor, stop.Token);
        return stop;
    }

    private async Task RelayAsync(string connectionId, JobEventCursor cursor, CancellationToken cancellationToken)
    {
        await using (cursor)
        {
            try
            {
                var client = hub.Clients.Client(connectionId);
                while (!cursor.Ended)
                {
                    foreach (var jobEvent in await cursor.NextAsync(Timeout.InfiniteTimeSpan, cancellationToken))
                    {
                        await client.update(jobEvent);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Unsubscribed or disconnected.
            }
            catch (Exception ex)
            {
                // The log could not be read over a gap (Redis down): go on in the job's group, which the process that
                // records an event also sends it to; the client sees the gap and re-syncs from a snapshot.
                LogRelayFailed(logger, ex, cursor.Job.Id, connectionId);
                await JoinGroupAsync(connectionId, cursor.Job.Id, cancellationToken);
            }
        }
    }

    private async Task JoinGroupAsync(string connectionId, Guid jobId, CancellationToken cancellationToken)
    {
        try
        {
            await hub.Groups.AddToGroupAsync(connectionId, DownloadHub.GroupName(jobId), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogGroupFallbackFailed(logger, ex, jobId, connectionId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of job {JobId} to hub connection {ConnectionId} failed; it follows the job's group instead")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, Guid jobId, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub connection {ConnectionId} could not join job {JobId}'s group after its replay failed; the client's polling takes over")]
    private static partial void LogGroupFallbackFailed(ILogger logger, Exception exception, Guid jobId, string connectionId);
}
