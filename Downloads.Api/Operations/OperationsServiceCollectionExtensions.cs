using System.Text.Json;
using Downloads.Jobs;
using Downloads.Jobs.Redis;
using Downloads.Jobs.Servers;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Downloads.Api.Operations;

public static class OperationsServiceCollectionExtensions
{
    public const string ReadyTag = "ready";

    public const string DashboardPath = "/hangfire";

    /// <summary>
    /// Serilog (console, or compact JSON with <c>Downloads:Logging:Json=true</c>; sinks registered as
    /// <see cref="Serilog.Core.ILogEventSink"/> too), health checks, and the dashboard's access options.
    /// </summary>
    public static IServiceCollection AddDownloadsOperations(this IServiceCollection services, IConfiguration configuration, NodeRole role)
    {
        // preserveStaticLogger: this host's logger is its own, not Serilog's static one (tests run several hosts in one process).
        services.AddSerilog((sp, logger) => ConfigureLogging(logger, sp, configuration, role), preserveStaticLogger: true);

        // Readiness: every check tagged ReadyTag; Redis's where it is configured. Hangfire's depends on the role.
        var checks = services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag])
            .Add(new HealthCheckRegistration(
                "hangfire",
                sp => new HangfireHealthCheck(
                    sp.GetRequiredService<JobStorage>(), role.RunsJobs() ? sp.GetRequiredService<LocalHangfireServers>() : null),
                failureStatus: null,
                tags: [ReadyTag]));
        if (RedisConnection.IsConfigured(configuration))
        {
            checks.AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        }

        services.AddOptions<DashboardAccessOptions>().BindConfiguration(DashboardAccessOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddDownloadsDashboardAccess();
        return services;
    }

    /// <summary>
    /// Request logging: one line per request with its path (never its query string: download links carry their
    /// signature there) and request id; scrapes and probes at Debug.
    /// </summary>
    public static WebApplication UseDownloadsRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger, not the static one (several hosts may share a process, as in tests).
            options.Logger = app.Services.GetService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.EnrichDiagnosticContext = (diagnostics, http) => diagnostics.Set("RequestId", http.TraceIdentifier);
            options.GetLevel = (http, _, exception) =>
                exception is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
                : http.Request.Path.StartsWithSegments("/health") || http.Request.Path.StartsWithSegments(TelemetryServiceCollectionExtensions.MetricsPath) ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }

    /// <summary><c>/health</c> (liveness), <c>/health/ready</c> (each dependency), <c>/metrics</c>: on every role.</summary>
    public static IEndpointRouteBuilder MapDownloadsOperations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDownloadsMetrics();
        endpoints.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        });
        return endpoints;
    }

    /// <summary>The Hangfire dashboard at <c>/hangfire</c>, behind <see cref="DashboardAccess.Policy"/> (see <see cref="DashboardAccess"/>).</summary>
    public static IEndpointRouteBuilder MapDownloadsDashboard(this IEndpointRouteBuilder endpoints)
    {
        var readOnly = endpoints.ServiceProvider.GetRequiredService<IOptions<DashboardAccessOptions>>().Value.ReadOnly
            ?? !endpoints.ServiceProvider.GetRequiredService<IHostEnvironment>().IsDevelopment();
        endpoints.MapHangfireDashboardWithAuthorizationPolicy(DashboardAccess.Policy, DashboardPath, new DashboardOptions
        {
            // The policy decides; Hangfire's own filters (local requests only, by default) would add a second rule.
            Authorization = [],
            IsReadOnlyFunc = _ => readOnly,
            DashboardTitle = "Downloads — jobs",
            DisplayStorageConnectionString = false,
        });
        return endpoints;
    }

    private static void ConfigureLogging(LoggerConfiguration logger, IServiceProvider services, IConfiguration configuration, NodeRole role)
    {
        logger.ReadFrom.Configuration(configuration)
            .ReadFrom.Services(services)
            // This category writes full URLs, query strings included, and download links carry their signature there.
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Role", role.ToString().ToLowerInvariant())
            .Enrich.WithProperty("Node", Environment.MachineName);
        if (configuration.GetValue<bool>("Downloads:Logging:Json"))
        {
            logger.WriteTo.Console(new RenderedCompactJsonFormatter());
        }
        else
        {
            logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        }
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, DownloadsJson.Options), context.RequestAborted);
    }
}
