using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Jobs.Redis;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using StackExchange.Redis;

namespace Downloads.Jobs.Webhooks;

internal static class WebhooksServiceCollectionExtensions
{
    public const string SigningSecretSetting = WebhookOptions.Section + ":SigningSecret";

    /// <summary>Options, delivery store, guard and the typed client of webhooks.</summary>
    public static IServiceCollection AddDownloadsWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>>(sp => new SigningSecretValidator<WebhookOptions>(
            sp.GetRequiredService<IHostEnvironment>(), SigningSecretSetting, o => o.SigningSecret, WebhookSecretRule.Check));

        // Wherever the service has Redis (a registered connection), delivery states live there, shared by every node.
        services.TryAddSingleton<IWebhookDeliveryStore>(sp => sp.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisWebhookDeliveryStore(
                redis, sp.GetRequiredService<IOptions<RedisOptions>>().Value.KeyPrefix, sp.GetRequiredService<IOptions<RetentionOptions>>().Value.Ended)
            : ActivatorUtilities.CreateInstance<InMemoryWebhookDeliveryStore>(sp));
        services.TryAddSingleton<WebhookTargetGuard>();
        services.TryAddSingleton<WebhookSigner>();
        services.TryAddSingleton<WebhookRetrySchedule>();
        services.TryAddSingleton<WebhookTrigger>();
        services.TryAddTransient<WebhookDeliveryJob>();

        services.AddHttpClient<WebhookSender>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // A redirect would lead past the guard's decision; a 3xx is an answer, and not a 2xx.
                AllowAutoRedirect = false,
                // Straight to the vetted address: through HTTP(S)_PROXY the guard would vet the proxy, not the target.
                UseProxy = false,
                UseCookies = false,
                ConnectCallback = sp.GetRequiredService<WebhookTargetGuard>().ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .AddResilienceHandler("webhook-attempt", (pipeline, context) =>
            {
                // One attempt per call: retries are scheduled as Hangfire runs (see WebhookDeliveryJob).
                var options = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
            });
        return services;
    }

    /// <summary>A Hangfire server of its own for deliveries, so receivers that hang never hold up download files.</summary>
    public static IServiceCollection AddDownloadsWebhookWorker(this IServiceCollection services)
    {
        services.AddHangfireServer((sp, server) =>
        {
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:webhooks";
            server.Queues = [WebhookDeliveryJob.Queue];
            server.WorkerCount = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.WorkerCount;
            server.CancellationCheckInterval = TimeSpan.FromMilliseconds(500);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        return services;
    }
}
