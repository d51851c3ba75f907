using System.Collections.Concurrent;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace Downloads.Jobs.Servers;

/// <summary>
/// Keeps each Hangfire server of this process listed in storage. Hangfire.Redis.StackExchange's heartbeat writes the
/// server's record without checking that the server is still listed, so once Redis has lost its data (a restart
/// without persistence, a failover to an empty replica, a flush) a running server is never listed again: readiness,
/// the servers metric and the dashboard see no worker although it still works. Storages that notice this throw
/// <c>BackgroundServerGoneException</c> from the heartbeat and Hangfire restarts the server; this process, run by
/// every server of the process beside its workers (so it knows the server's id), announces the server again instead.
/// </summary>
public sealed partial class HangfireServerAnnouncer(LocalHangfireServers local, ILogger<HangfireServerAnnouncer> logger) : IBackgroundProcess
{
    /// <summary>How often each server checks that it is listed: readiness is back within this plus one probe.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    public void Execute(BackgroundProcessContext context)
    {
        local.Add(context.ServerId, context.StoppedToken);
        context.Wait(CheckInterval);
        if (context.IsStopping)
        {
            return;
        }

        // Storage errors (Redis down) propagate: Hangfire logs them and calls again after a back-off.
        if (context.Storage.GetMonitoringApi().Servers().Any(server => server.Name == context.ServerId))
        {
            return;
        }

        using var connection = context.Storage.GetConnection();
        connection.AnnounceServer(context.ServerId, ServerContextOf(context.Properties));
        LogAnnouncedAgain(logger, context.ServerId);
    }

    // What BackgroundJobServer announced at start: it passes its queues and worker count as these properties.
    private static ServerContext ServerContextOf(IReadOnlyDictionary<string, object> properties) => new()
    {
        Queues = properties.TryGetValue("Queues", out var queues) && queues is string[] names ? names : [],
        WorkerCount = properties.TryGetValue("WorkerCount", out var count) && count is int workers ? workers : 0,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hangfire server {ServerId} was no longer listed in storage (its data was lost); announced it again")]
    private static partial void LogAnnouncedAgain(ILogger logger, string serverId);
}

/// <summary>The ids of the Hangfire servers running in this process, for readiness.</summary>
public sealed class LocalHangfireServers
{
    private readonly ConcurrentDictionary<string, bool> _ids = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Ids => [.. _ids.Keys];

    /// <summary>Notes a running server; it is forgotten once <paramref name="stopped"/> fires (Hangfire may restart it under a new id).</summary>
    public void Add(string serverId, CancellationToken stopped)
    {
        if (_ids.TryAdd(serverId, true))
        {
            stopped.Register(() => _ids.TryRemove(serverId, out _));
        }
    }
}
