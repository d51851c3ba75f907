using Downloads.Jobs.Processing;
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

/// <summary>Hangfire storage answers and at least one server (worker) is alive.</summary>
public sealed class HangfireHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var alive = HangfireServers.CountAlive(storage.GetMonitoringApi(), DateTime.UtcNow);
            return Task.FromResult(alive > 0
                ? HealthCheckResult.Healthy($"{alive} Hangfire server(s) alive")
                : HealthCheckResult.Unhealthy("no Hangfire server is alive: jobs will wait"));
        }
        catch (Exception ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire storage does not answer", ex));
        }
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
