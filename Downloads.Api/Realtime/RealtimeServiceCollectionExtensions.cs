using Downloads.Api.Access;
using Downloads.Jobs;
using Downloads.Jobs.Events;
using Downloads.Jobs.Redis;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using RedisBackplane = Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisHubLifetimeManager<Downloads.Api.Realtime.DownloadHub>;
using SignalRRedisOptions = Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions;

namespace Downloads.Api.Realtime;

public static class RealtimeServiceCollectionExtensions
{
    /// <summary>
    /// SignalR with the service's JSON shape and keep-alives below common proxy idle limits
    /// (nginx 60 s, Cloudflare 100 s), and the Redis backplane in Redis mode. Every process that sends
    /// to the hub needs this, workers too.
    /// </summary>
    public static IServiceCollection AddDownloadsRealtime(this IServiceCollection services, IConfiguration configuration)
    {
        var signalR = services
            .AddSignalR(options =>
            {
                options.ClientTimeoutInterval = TimeSpan.FromSeconds(45);
                options.HandshakeTimeout = TimeSpan.FromSeconds(15);
            })
            .AddJsonProtocol(options => DownloadsJson.Configure(options.PayloadSerializerOptions));

        if (RedisConnection.IsConfigured(configuration))
        {
            // The backplane: every process that sends (workers too) uses this hub type, this prefix and the JSON
            // protocol above, over the process's one Redis connection.
            signalR.AddStackExchangeRedis();
            services.AddOptions<SignalRRedisOptions>().Configure<IOptions<RedisOptions>, IServiceProvider>((backplane, redis, sp) =>
            {
                backplane.Configuration.ChannelPrefix = RedisChannel.Literal(redis.Value.SignalRChannelPrefix);
                backplane.ConnectionFactory = _ => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>());
            });
            // Registered for the closed hub type, so it wins over AddStackExchangeRedis's open generic registration.
            services.AddSingleton<HubLifetimeManager<DownloadHub>>(sp => new BackplaneLifetimeManager(
                ActivatorUtilities.CreateInstance<RedisBackplane>(sp),
                sp.GetRequiredService<DownloadsMetrics>(),
                sp.GetRequiredService<ILogger<BackplaneLifetimeManager>>()));
        }

        services.AddOptions<RealtimeOptions>().BindConfiguration(RealtimeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Server pings keep WebSockets and SSE from looking idle to a proxy.
        services.AddOptions<HubOptions>().Configure<IOptions<RealtimeOptions>>((hub, realtime) =>
            hub.KeepAliveInterval = realtime.Value.KeepAliveInterval);
        services.AddSingleton<IJobEventSink, HubJobEventSink>();
        services.AddSingleton<JobEventFeed>();
        services.AddSingleton<HubReplayRelay>();
        return services;
    }

    /// <summary>The hub at <c>/ws/download/{job_id}</c> and <c>/ws/download</c>, on all three transports.</summary>
    public static IEndpointRouteBuilder MapDownloadsRealtime(this IEndpointRouteBuilder endpoints)
    {
        var realtime = endpoints.ServiceProvider.GetRequiredService<IOptions<RealtimeOptions>>().Value;
        void Configure(HttpConnectionDispatcherOptions options)
        {
            options.Transports = realtime.Transports;
            // Long polling has no pings: a poll must answer inside the proxies' idle limit on its own.
            options.LongPolling.PollTimeout = TimeSpan.FromSeconds(realtime.LongPollSeconds);
        }

        // Which jobs a connection may follow is decided per job in the hub; here only that the caller holds something.
        // Connections per client are counted by HubConnectionLimitFilter, per connection rather than per request.
        endpoints.MapHub<DownloadHub>(DownloadHub.Path, Configure).RequireAuthorization(AccessPolicies.JobCaller);
        endpoints.MapHub<DownloadHub>(DownloadHub.Path + "/{jobId}", Configure).RequireAuthorization(AccessPolicies.JobCaller);
        return endpoints;
    }
}
