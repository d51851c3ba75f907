using Microsoft.Extensions.Options;

namespace Downloads.Api.Protection;

/// <summary>
/// The event connections each client holds open on this node: SSE streams and SignalR connections, counted together
/// against <c>Downloads:RateLimiting:MaxConnectionsPerClient</c>. A hub connection counts once from connect to
/// disconnect, whatever its transport: a long-polling client (a poll pending, a send in flight) is one connection.
/// </summary>
public sealed class ClientConnections(IOptions<RateLimitingOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Counts one more connection of <paramref name="client"/>, unless it already holds its limit.</summary>
    public bool TryOpen(string client)
    {
        var limit = options.Value.MaxConnectionsPerClient;
        lock (_gate)
        {
            var open = _open.GetValueOrDefault(client);
            if (limit > 0 && open >= limit)
            {
                return false;
            }

            _open[client] = open + 1;
            return true;
        }
    }

    /// <summary>Whether <paramref name="client"/> holds its limit now (a new connection would be refused).</summary>
    public bool IsFull(string client)
    {
        var limit = options.Value.MaxConnectionsPerClient;
        lock (_gate)
        {
            return limit > 0 && _open.GetValueOrDefault(client) >= limit;
        }
    }

    /// <summary>One connection of <paramref name="client"/> that <see cref="TryOpen"/> counted has ended.</summary>
    public void Close(string client)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(client, out var open))
            {
                if (open <= 1)
                {
                    _open.Remove(client);
                }
                else
                {
                    _open[client] = open - 1;
                }
            }
        }
    }
}
