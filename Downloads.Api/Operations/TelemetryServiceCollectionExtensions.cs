using Downloads.Jobs;
using Downloads.Jobs.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Downloads.Api.Operations;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>Where <c>/metrics</c> answers, on every role.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// OpenTelemetry: metrics (Meter <c>Downloads</c>, ASP.NET Core, Kestrel, SignalR) scraped by Prometheus at
    /// <c>/metrics</c>; traces (ActivitySource <c>Downloads</c>, ASP.NET Core, HttpClient) exported over OTLP only
    /// when <c>Downloads:Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public static IServiceCollection AddDownloadsTelemetry(this IServiceCollection services, IConfiguration configuration, NodeRole role)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(options.ServiceName, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}")
                .AddAttributes([new("downloads.role", role.ToString().ToLowerInvariant())]))
            .WithMetrics(metrics => metrics
                .AddMeter(DownloadsMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddMeter("Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(DownloadsTracing.SourceName)
                .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = http => !IsScrapeOrProbe(http.Request.Path))
                .AddHttpClientInstrumentation());

        if (options.OtlpEndpoint is { } endpoint)
        {
            telemetry.UseOtlpExporter(options.OtlpProtocol, endpoint);
        }
        else if (!string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // The SDK reads OTEL_EXPORTER_OTLP_* itself (endpoint, protocol, headers).
            telemetry.UseOtlpExporter();
        }

        return services;
    }

    /// <summary><c>/metrics</c> in the Prometheus text format.</summary>
    public static IEndpointRouteBuilder MapDownloadsMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath);
        return endpoints;
    }

    // Scrapes and probes every few seconds would drown the traces that matter.
    private static bool IsScrapeOrProbe(PathString path) =>
        path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);
}

/// <summary><c>Downloads:Telemetry</c>: where traces go.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Downloads:Telemetry";

    /// <summary>The <c>service.name</c> of metrics and traces. Default <c>downloads</c>.</summary>
    [System.ComponentModel.DataAnnotations.Required]
    public string ServiceName { get; set; } = "downloads";

    /// <summary>An OTLP collector (e.g. <c>http://otel-collector:4317</c>); unset: traces are not exported (unless <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>The OTLP protocol of <see cref="OtlpEndpoint"/>. Default gRPC.</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;
}
