using Downloads.Jobs.Processing;
using Downloads.Jobs.Servers;
using Downloads.Jobs.Storage;
using Hangfire;
using StackExchange.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Downloads.Api.Operations;

/// <summary>Storage answers its probe (a lookup; for a bucket, a listing), with credentials it accepts.</summary>
public sealed class StorageHealthCheck(IFileStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await storage.ProbeAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{storage.GetType().Name} answers");
        }
        catch (StorageAccessException ex)
        {
            return HealthCheckResult.Unhealthy($"storage refuses access ({ex.ErrorCode}): {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is TransientStorageException or IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy("storage does not answer", ex);
        }
    }
}

/// <summary>
/// Hangfire, by role. A node that runs jobs (<c>worker</c>, <c>all</c>) is ready when storage answers and each of its
/// own Hangfire servers is listed there (<see cref="HangfireServerAnnouncer"/> lists one again within 5 s after Redis
/// lost its data). An <c>api</c> node needs a worker somewhere: with none alive it is <c>degraded</c> (still 200:
/// it accepts jobs, which wait), not unready, so that an orchestrator keeps it in service.
/// </summary>
public sealed class HangfireHealthCheck(JobStorage storage, LocalHangfireServers? local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var servers = storage.GetMonitoringApi().Servers();
            return Task.FromResult(Decide(
                HangfireServers.CountAlive(servers, DateTime.UtcNow), servers.Select(s => s.Name).ToHashSet(), local?.Ids));
        }
        catch (Exception ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage does not answer", ex));
        }
    }

    /// <summary>
    /// The readiness of Hangfire from what storage lists: <paramref name="localServers"/> are this node's own servers,
    /// null on a node that runs none (<c>api</c>).
    /// </summary>
    public static HealthCheckResult Decide(int aliveInCluster, IReadOnlySet<string> listed, IReadOnlyCollection<string>? localServers)
    {
        if (localServers is null)
        {
            return aliveInCluster > 0
                ? HealthCheckResult.Healthy($"{aliveInCluster} Hangfire server(s) alive")
                : HealthCheckResult.Degraded("no Hangfire server is alive: jobs are accepted and wait for a worker");
        }

        if (localServers.Count == 0)
        {
            return HealthCheckResult.Unhealthy("this node's Hangfire servers have not started yet");
        }

        var missing = localServers.Count(id => !listed.Contains(id));
        return missing == 0
            ? HealthCheckResult.Healthy($"{aliveInCluster} Hangfire server(s) alive, this node's {localServers.Count} listed")
            : HealthCheckResult.Unhealthy($"{missing} of this node's Hangfire servers not listed in storage (announced again within seconds)");
    }
}

/// <summary>Redis answers a PING within the connection's timeout.</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"Redis answers in {latency.TotalMilliseconds:0.#} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer", ex);
        }
    }
}
