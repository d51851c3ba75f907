using System.Text.Json;
using Downloads.Jobs;
using Downloads.Jobs.Redis;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Serilog;
using Serilog.Formatting.Compact;

namespace Downloads.Api.Operations;

public static class OperationsServiceCollectionExtensions
{
    public const string ReadyTag = "ready";

    /// <summary>Serilog (console, or compact JSON with <c>Downloads:Logging:Json=true</c>) and health checks.</summary>
    public static IServiceCollection AddDownloadsOperations(this IServiceCollection services, IConfiguration configuration, NodeRole role)
    {
        services.AddSerilog((sp, logger) =>
        {
            logger.ReadFrom.Configuration(configuration)
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
        });

        var checks = services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag])
            .AddCheck<HangfireHealthCheck>("hangfire", tags: [ReadyTag]);
        if (RedisConnection.IsConfigured(configuration))
        {
            checks.AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        }

        return services;
    }

    /// <summary><c>/health</c> (liveness), <c>/health/ready</c> (each dependency), <c>/hangfire</c>.</summary>
    public static IEndpointRouteBuilder MapDownloadsOperations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        });
        return endpoints;
    }

    /// <summary>The Hangfire dashboard: local requests only, or basic authentication when credentials are configured.</summary>
    public static IEndpointRouteBuilder MapDownloadsDashboard(this IEndpointRouteBuilder endpoints, IConfiguration configuration)
    {
        endpoints.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new DashboardAuthorizationFilter(configuration)],
            IsReadOnlyFunc = _ => configuration.GetValue<bool>("Downloads:Dashboard:ReadOnly"),
            DashboardTitle = "Downloads — jobs",
            DisplayStorageConnectionString = false,
        });
        return endpoints;
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
