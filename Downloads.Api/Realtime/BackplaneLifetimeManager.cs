using System.Diagnostics.CodeAnalysis;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;

namespace Downloads.Api.Realtime;

/// <summary>
/// The Redis backplane, with a connection that outlives a slow Redis. On connect the backplane subscribes to a
/// channel of the connection's own (for messages addressed to it from other nodes, which this service never sends),
/// and on disconnect it unsubscribes; when either fails (a Redis timeout under load, an outage) SignalR ends the
/// connection's application with that exception, and the client sees its socket closed with
/// <c>InternalServerError</c> in the middle of whatever it was doing. Here such a failure is logged and counted
/// instead: the connection is registered on this node before the subscription is tried, so everything this
/// service sends it (its relay's events, its group's events) still reaches it. Until a first connection was set up
/// in full, a failure still ends the connection: it may have come before the registration (the backplane's own
/// channels are subscribed at the first connection), and the client reconnects.
/// </summary>
public sealed partial class BackplaneLifetimeManager(
    RedisHubLifetimeManager<DownloadHub> backplane, DownloadsMetrics metrics, ILogger<BackplaneLifetimeManager> logger)
    : HubLifetimeManager<DownloadHub>, IDisposable
{
    // Set once a connection was set up in full: from then on the backplane's own channels exist and it registers
    // each connection on this node before subscribing to the connection's channel, so only that step can fail.
    private volatile bool _setUp;

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        try
        {
            await backplane.OnConnectedAsync(connection);
            _setUp = true;
        }
        catch (Exception ex) when (_setUp && ex is not OperationCanceledException)
        {
            Tolerate(ex, connection, connecting: true);
        }
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        try
        {
            await backplane.OnDisconnectedAsync(connection);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The connection is over either way: it was unregistered on this node first.
            Tolerate(ex, connection, connecting: false);
        }
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendAllAsync(methodName, args, cancellationToken);

    public override Task SendAllExceptAsync(
        string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        backplane.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendConnectionAsync(connectionId, methodName, args, cancellationToken);

    public override Task SendConnectionsAsync(
        IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendConnectionsAsync(connectionIds, methodName, args, cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendGroupAsync(groupName, methodName, args, cancellationToken);

    public override Task SendGroupsAsync(
        IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendGroupsAsync(groupNames, methodName, args, cancellationToken);

    public override Task SendGroupExceptAsync(
        string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        backplane.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendUserAsync(userId, methodName, args, cancellationToken);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        backplane.SendUsersAsync(userIds, methodName, args, cancellationToken);

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        backplane.AddToGroupAsync(connectionId, groupName, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        backplane.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);

    public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken) =>
        backplane.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken);

    public override Task SetConnectionResultAsync(string connectionId, CompletionMessage result) =>
        backplane.SetConnectionResultAsync(connectionId, result);

    public override bool TryGetReturnType(string invocationId, [NotNullWhen(true)] out Type? type) =>
        backplane.TryGetReturnType(invocationId, out type);

    public void Dispose() => backplane.Dispose();

    private void Tolerate(Exception exception, HubConnectionContext connection, bool connecting)
    {
        metrics.RedisError("backplane");
        if (connecting)
        {
            LogSubscribeFailed(logger, exception, connection.ConnectionId);
        }
        else
        {
            LogUnsubscribeFailed(logger, exception, connection.ConnectionId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backplane could not subscribe hub connection {ConnectionId} to its own channel; the connection goes on (nothing is addressed to it from other nodes)")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backplane could not unsubscribe hub connection {ConnectionId}'s channels")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, string connectionId);
}
