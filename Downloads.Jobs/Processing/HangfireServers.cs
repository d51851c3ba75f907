using Hangfire.Storage;
using Hangfire.Storage.Monitoring;

namespace Downloads.Jobs.Processing;

/// <summary>Which Hangfire servers (workers) count as alive; readiness and the metric agree on it.</summary>
public static class HangfireServers
{
    private static readonly TimeSpan HeartbeatWindow = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Servers with a heartbeat in the last minute. Redis storage records the first heartbeat only a heartbeat
    /// interval (30 s) after start, so until then a server counts from its start.
    /// </summary>
    public static int CountAlive(IMonitoringApi monitoring, DateTime utcNow) => CountAlive(monitoring.Servers(), utcNow);

    /// <inheritdoc cref="CountAlive(IMonitoringApi, DateTime)"/>
    public static int CountAlive(IEnumerable<ServerDto> servers, DateTime utcNow) =>
        servers.Count(s => utcNow - (s.Heartbeat ?? s.StartedAt) < HeartbeatWindow);
}
