using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Downloads.Api.Access;
using Downloads.Api.Downloads;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Realtime;

/// <summary>
/// The download hub. At <c>/ws/download/{job_id}</c> a connection follows that job from the start (with
/// <c>?last_seq=N</c>, from after seq N); at <c>/ws/download</c> it calls <see cref="Subscribe"/>,
/// <see cref="SubscribeFrom"/> and <see cref="Unsubscribe"/>. Events reach clients as <c>update</c>, each
/// subscription's relayed in seq order by <see cref="HubReplayRelay"/>, with no gap and no catch-up snapshot.
/// </summary>
public sealed class DownloadHub(
    JobEventFeed feed, HubReplayRelay relay, DownloadsMetrics metrics, IAuthorizationService authorization)
    : Hub<IDownloadClient>
{
    public const string Path = "/ws/download";

    /// <summary>The query parameter of <c>/ws/download/{job_id}</c> that resumes after a seq.</summary>
    public const string LastSeqQuery = "last_seq";

    /// <summary>How many jobs one connection may follow.</summary>
    public const int MaxSubscriptionsPerConnection = 100;

    private const string FollowsKey = "downloads.follows";
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

            var lastSeq = Context.GetHttpContext()?.Request.Query[LastSeqQuery].ToString();
            await FollowAsync(jobId, string.IsNullOrEmpty(lastSeq) ? null : ParseLastSeq(lastSeq));
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

        foreach (var stop in Follows.Values)
        {
            stop.Cancel();
            stop.Dispose();
        }

        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Follows a job: answered with its <c>snapshot</c>, then every <c>update</c>.</summary>
    public async Task Subscribe(string jobId) => await FollowAsync(ParseJobId(jobId), afterSeq: null);

    /// <summary>
    /// <see cref="Subscribe"/> with that job's access token, so that one connection can follow several jobs each
    /// handed over with its own token (the browser client does).
    /// </summary>
    public async Task SubscribeWithToken(string jobId, string accessToken) =>
        await FollowAsync(ParseJobId(jobId), afterSeq: null, accessToken);

    private static Guid ParseJobId(string jobId) =>
        JobIds.TryParse(jobId, out var id) ? id : throw new HubException("invalid job id");

    /// <summary>
    /// Follows a job from after <paramref name="lastSeq"/>, the last seq the client has: answered with the events
    /// it missed while the job's log still holds them (else a <c>snapshot</c>), then every later event in order.
    /// </summary>
    /// <remarks>A method of its own: SignalR binds arguments by count, with neither overloads nor optional ones.</remarks>
    public async Task SubscribeFrom(string jobId, long lastSeq) => await FollowAsync(ParseJobId(jobId), ValidLastSeq(lastSeq));

    /// <summary><see cref="SubscribeFrom"/> with that job's access token (see <see cref="SubscribeWithToken"/>).</summary>
    public async Task SubscribeFromWithToken(string jobId, long lastSeq, string accessToken) =>
        await FollowAsync(ParseJobId(jobId), ValidLastSeq(lastSeq), accessToken);

    public async Task Unsubscribe(string jobId)
    {
        if (JobIds.TryParse(jobId, out var id))
        {
            await StopFollowingAsync(id);
        }
    }

    // Each followed job's relay stop. Concurrent: OnDisconnectedAsync may run while a call is still in flight.
    private ConcurrentDictionary<Guid, CancellationTokenSource> Follows =>
        (ConcurrentDictionary<Guid, CancellationTokenSource>)(Context.Items.TryGetValue(FollowsKey, out var follows)
            ? follows!
            : Context.Items[FollowsKey] = new ConcurrentDictionary<Guid, CancellationTokenSource>());

    private static long ParseLastSeq(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : throw new HubException("invalid last_seq");

    private static long ValidLastSeq(long lastSeq) => lastSeq >= 0 ? lastSeq : throw new HubException("invalid last_seq");

    private void EnsureRoomFor(Guid jobId)
    {
        if (!Follows.ContainsKey(jobId) && Follows.Count >= MaxSubscriptionsPerConnection)
        {
            throw new HubException($"a connection may follow at most {MaxSubscriptionsPerConnection} jobs");
        }
    }

    private async Task StopFollowingAsync(Guid jobId)
    {
        if (!Follows.TryRemove(jobId, out var stop))
        {
            return;
        }

        stop.Cancel();
        stop.Dispose();
        // A relay that failed went on in the job's group: leave it too.
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupName(jobId), Context.ConnectionAborted);
    }

    // Every subscription has one sender: the snapshot (or, resuming after a seq, the events the client missed), then
    // the live events in seq order, all from the relay's cursor. The cursor listens before it reads the job, so
    // nothing recorded meanwhile falls between the first message and the live ones, and nothing overtakes the first.
    private async Task FollowAsync(Guid jobId, long? afterSeq, string? accessToken = null)
    {
        var cancellationToken = Context.ConnectionAborted;
        var cursor = await feed.OpenAsync(jobId, cancellationToken);
        try
        {
            // Another API key's job, or one neither the connection's credential nor the given token is for, is not found either.
            if (cursor is null || !await MayAccessAsync(cursor.Job, accessToken))
            {
                throw new HubException("job not found");
            }

            EnsureRoomFor(jobId);
            await StopFollowingAsync(jobId);
            foreach (var jobEvent in await cursor.CatchUpAsync(afterSeq, cancellationToken))
            {
                await Clients.Caller.update(jobEvent);
            }
        }
        catch
        {
            if (cursor is not null)
            {
                await cursor.DisposeAsync();
            }

            throw;
        }

        Follows[jobId] = relay.Start(Context.ConnectionId, cursor, cancellationToken);
    }

    private async Task<bool> MayAccessAsync(DownloadJob job, string? accessToken) =>
        await authorization.MayAccessAsync(Context.User ?? new ClaimsPrincipal(), job)
        || (accessToken is not null && await authorization.MayAccessAsync(AccessClaims.HoldingJobToken(accessToken), job));
}
