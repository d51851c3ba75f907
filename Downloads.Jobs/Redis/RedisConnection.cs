using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Downloads.Jobs.Redis;

/// <summary>The one Redis connection of a process, shared by the job store, the event stream, Hangfire and SignalR.</summary>
public static class RedisConnection
{
    /// <summary>Whether <c>ConnectionStrings:Redis</c> is set: Redis mode.</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RedisOptions.ConnectionStringName));

    /// <summary>
    /// Connects without failing when Redis is down: the process starts, requests answer 503 until Redis is back,
    /// and the multiplexer reconnects by itself.
    /// </summary>
    public static IConnectionMultiplexer Connect(string connectionString, RedisOptions options)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = options.TimeoutMs;
        configuration.SyncTimeout = options.TimeoutMs;
        configuration.AsyncTimeout = options.TimeoutMs;
        configuration.ClientName ??= $"downloads-{Environment.MachineName}-{Environment.ProcessId}";
        return ConnectionMultiplexer.Connect(configuration);
    }
}
