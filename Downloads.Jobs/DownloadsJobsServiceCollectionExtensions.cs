using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Processing;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Telemetry;
using Downloads.Jobs.Webhooks;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs;

public static class DownloadsJobsServiceCollectionExtensions
{
    /// <summary>
    /// The job pipeline: ledger, store, storage, links, Hangfire storage and client. Parts are added with
    /// <c>TryAdd</c>, so a host (or a test) may put its own in first.
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

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<DownloadsMetrics>();
        services.TryAddSingleton<IJobStore, InMemoryJobStore>();
        services.TryAddSingleton<IJobEventStream, InMemoryJobEventStream>();
        services.AddSingleton<IJobEventSink>(sp => sp.GetRequiredService<IJobEventStream>());
        services.TryAddSingleton<JobEventPublisher>();
        services.TryAddSingleton<JobLedger>();

        services.TryAddSingleton<IFileStorage>(sp =>
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.Kind == StorageKind.Filesystem
                ? ActivatorUtilities.CreateInstance<FileSystemFileStorage>(sp)
                : new SyntheticFileStorage());
        services.TryAddSingleton<DownloadLinkSigner>();
        services.TryAddSingleton<FileRetryPolicy>();
        services.TryAddSingleton<FilePreparer>();
        services.TryAddTransient<DownloadJobRunner>();
        services.TryAddSingleton<DownloadJobScheduler>();
        services.AddDownloadsWebhooks();

        // Hangfire hands out its storage and activator through statics (JobStorage.Current, JobActivator.Current), so
        // two hosts in one process (tests) could run each other's jobs. Each host registers its own.
        services.TryAddSingleton<JobStorage>(_ => new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) }));
        services.TryAddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(sp.GetRequiredService<JobStorage>()));

        return services;
    }

    /// <summary>The Hangfire servers that run download jobs and webhook deliveries in this process.</summary>
    public static IServiceCollection AddDownloadsWorker(this IServiceCollection services)
    {
        services.AddHangfireServer((sp, server) =>
        {
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
            server.Queues = [DownloadJobRunner.Queue, "default"];
            server.WorkerCount = sp.GetRequiredService<IOptions<ProcessingOptions>>().Value.WorkerCount;
            // A cancelled or deleted job's token fires within half a second.
            server.CancellationCheckInterval = TimeSpan.FromMilliseconds(500);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        services.AddDownloadsWebhookWorker();
        return services;
    }
}
