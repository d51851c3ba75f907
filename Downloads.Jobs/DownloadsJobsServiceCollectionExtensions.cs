using Downloads.Jobs.Access;
using Downloads.Jobs.Archives;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Recovery;
using Downloads.Jobs.Redis;
using Downloads.Jobs.Servers;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Telemetry;
using Downloads.Jobs.Webhooks;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.Redis.StackExchange;
using Hangfire.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Jobs;

public static class DownloadsJobsServiceCollectionExtensions
{
    /// <summary>
    /// The job pipeline: ledger, store, storage, links, Hangfire storage and client. With <c>ConnectionStrings:Redis</c>
    /// set, jobs, their events and Hangfire live in Redis (shared by every node); else in process memory.
    /// Parts are added with <c>TryAdd</c>, so a host (or a test) may put its own in first.
    /// </summary>
    public static IServiceCollection AddDownloadsJobs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<ProcessingOptions>().BindConfiguration(ProcessingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LinkOptions>().BindConfiguration(LinkOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<LinkOptions>>(sp => new SigningSecretValidator<LinkOptions>(
            sp.GetRequiredService<IHostEnvironment>(), "Downloads:Links:SigningKey", o => o.SigningKey));
        services.AddSingleton<IValidateOptions<LinkOptions>, LinkModeValidator>();

        services.AddOptions<RecoveryOptions>().BindConfiguration(RecoveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetentionOptions>()
            .Configure<IConfiguration>((retention, config) => retention.RetentionHours = config.GetValue<int?>(RetentionOptions.LegacyHoursSetting))
            .BindConfiguration(RetentionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        var redis = RedisConnection.IsConfigured(configuration);
        if (redis)
        {
            services.AddDownloadsRedis(configuration);
        }

        services.AddMetrics();
        services.TryAddSingleton<DownloadsMetrics>();
        services.TryAddSingleton<IJobStore, InMemoryJobStore>();
        services.TryAddSingleton<IRunLeases, InMemoryRunLeases>();
        services.TryAddSingleton<IJobEventStream, InMemoryJobEventStream>();
        services.AddSingleton<IJobEventSink>(sp => sp.GetRequiredService<IJobEventStream>());
        services.TryAddSingleton<JobEventPublisher>();
        services.TryAddSingleton<JobLedger>();
        services.TryAddSingleton<BackgroundJobQueue>();

        services.TryAddSingleton<IFileStorage>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return storage.Kind switch
            {
                StorageKind.Filesystem => ActivatorUtilities.CreateInstance<FileSystemFileStorage>(sp),
                StorageKind.S3 => ActivatorUtilities.CreateInstance<S3FileStorage>(sp),
                _ => new SyntheticFileStorage(storage.SyntheticSizeBytes),
            };
        });
        services.TryAddSingleton<S3Bucket>();
        services.TryAddSingleton<DownloadLinkSigner>();
        services.TryAddSingleton<IFileLinks>(sp =>
            sp.GetRequiredService<IOptions<LinkOptions>>().Value.ModeFor(sp.GetRequiredService<IOptions<StorageOptions>>().Value.Kind) == LinkMode.Presigned
                ? ActivatorUtilities.CreateInstance<PresignedFileLinks>(sp)
                : ActivatorUtilities.CreateInstance<ProxyFileLinks>(sp));
        services.TryAddSingleton<JobArchive>();
        services.TryAddSingleton<FileRetryPolicy>();
        services.TryAddSingleton<FilePreparer>();
        services.TryAddTransient<DownloadRun>();
        services.TryAddSingleton<IdleRunSlot>();
        services.TryAddSingleton<InitiateGroupCommit>();
        services.TryAddSingleton<DownloadJobCommands>();
        services.AddDownloadsWebhooks();

        // Hangfire's storage and activator belong to this container, not to Hangfire's process-wide statics:
        // several hosts in one process (tests, or an API and a worker) must not share or swap them.
        services.TryAddSingleton<JobStorage>(sp => redis
            ? CreateRedisStorage(sp)
            : new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = HangfireExpiration(sp, TimeSpan.FromHours(6)) }));
        services.TryAddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(sp.GetRequiredService<JobStorage>()));

        return services;
    }

    private static RedisStorage CreateRedisStorage(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
        return new RedisStorage(sp.GetRequiredService<IConnectionMultiplexer>(), new RedisStorageOptions
        {
            Prefix = options.HangfirePrefix,
            // A run fetched by a worker that died runs again after this; every run is far shorter (RunBudget).
            InvisibilityTimeout = TimeSpan.FromSeconds(options.InvisibilityTimeoutSeconds),
            // Enqueue wakes workers through pub/sub; this bounds the wait when a notification was missed.
            FetchTimeout = TimeSpan.FromSeconds(5),
        })
        {
            JobExpirationTimeout = HangfireExpiration(sp, TimeSpan.FromDays(1)),
        };
    }

    // Hangfire's records of finished runs are kept no longer than the jobs they ran (its own default, else).
    private static TimeSpan HangfireExpiration(IServiceProvider sp, TimeSpan hangfireDefault)
    {
        var ended = sp.GetRequiredService<IOptions<RetentionOptions>>().Value.Ended;
        return ended < hangfireDefault ? ended : hangfireDefault;
    }

    /// <summary>Redis mode: one shared connection, the Redis job store and event stream (added before the in-memory defaults).</summary>
    private static void AddDownloadsRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // A run longer than the invisibility timeout would be started a second time while it still runs.
        services.AddOptions<ProcessingOptions>().PostConfigure<IOptions<RedisOptions>>((processing, redis) =>
            processing.RunBudget = TimeSpan.FromTicks(Math.Min(processing.RunBudget.Ticks, redis.Value.InvisibilityTimeout.Ticks / 4)));
        var connectionString = configuration.GetConnectionString(RedisOptions.ConnectionStringName)!;
        services.TryAddSingleton(sp => RedisConnection.Connect(connectionString, sp.GetRequiredService<IOptions<RedisOptions>>().Value));
        services.TryAddSingleton<IJobStore, RedisJobStore>();
        services.TryAddSingleton<IRunLeases, RedisRunLeases>();
        services.TryAddSingleton<IJobEventStream, RedisJobEventStream>();
    }

    /// <summary>The Hangfire servers that run download jobs and webhook deliveries in this process.</summary>
    public static IServiceCollection AddDownloadsWorker(this IServiceCollection services)
    {
        services.AddHangfireServer((sp, server) =>
        {
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
            server.Queues = [DownloadRun.Queue, "default"];
            server.WorkerCount = sp.GetRequiredService<IOptions<ProcessingOptions>>().Value.WorkerCount;
            // A cancelled or deleted job's token fires within half a second.
            server.CancellationCheckInterval = TimeSpan.FromMilliseconds(500);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        services.AddDownloadsWebhookWorker();
        // Run by each Hangfire server above, beside its workers.
        services.TryAddSingleton<LocalHangfireServers>();
        services.AddSingleton<IBackgroundProcess, HangfireServerAnnouncer>();
        services.TryAddSingleton<RecoverySweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RecoverySweeper>());
        return services;
    }
}
