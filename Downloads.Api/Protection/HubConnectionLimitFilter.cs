using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Protection;

/// <summary>
/// Counts each SignalR connection against its client's <see cref="ClientConnections"/> from the hub's connect to its
/// disconnect. A connection beyond the limit is closed at once with the hub error <c>too many connections</c>.
/// </summary>
public sealed class HubConnectionLimitFilter(ClientConnections connections) : IHubFilter
{
    public const string RefusedMessage = "too many connections from this client";

    // The client a connection was counted against, to release exactly that one.
    private const string CountedKey = "downloads.connection-client";

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var hub = context.Context;
        var client = ClientKeys.Of(hub.User, hub.GetHttpContext()?.Connection.RemoteIpAddress);
        if (!connections.TryOpen(client))
        {
            throw new HubException(RefusedMessage);
        }

        hub.Items[CountedKey] = client;
        try
        {
            await next(context);
        }
        catch
        {
            // A connection whose OnConnectedAsync fails (an unknown job) gets no OnDisconnectedAsync.
            Release(hub);
            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context, exception);
        }
        finally
        {
            Release(context.Context);
        }
    }

    private void Release(HubCallerContext hub)
    {
        if (hub.Items.Remove(CountedKey, out var client) && client is string name)
        {
            connections.Close(name);
        }
    }
}
