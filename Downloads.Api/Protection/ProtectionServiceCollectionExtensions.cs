using System.Globalization;
using System.Threading.RateLimiting;
using Downloads.Api.Http;
using Downloads.Jobs.Events;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Protection;

public static class ProtectionServiceCollectionExtensions
{
    /// <summary>The rate limiter policy of <c>POST /v1/download/initiate</c>.</summary>
    public const string InitiatePolicy = "initiate";

    /// <summary>The rate limiter policy of cancel, pause, resume and check.</summary>
    public const string ControlPolicy = "control";

    /// <summary>
    /// Rate limiting per client (API key, else IP address) of initiate and of the control routes, the bounds on active
    /// jobs and on open event connections (SSE streams and hub connections) per client, and CORS from
    /// <c>Downloads:Cors:AllowedOrigins</c> (none by default).
    /// </summary>
    public static IServiceCollection AddDownloadsProtection(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CorsOptions>().BindConfiguration(CorsOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<ActiveJobLimiter>();
        services.AddSingleton<IJobEventSink>(sp => sp.GetRequiredService<ActiveJobLimiter>());
        services.AddScoped<ActiveJobLimitFilter>();
        services.AddSingleton<ClientConnections>();
        services.AddScoped<EventStreamLimitFilter>();
        // Registered, so SignalR uses this one instance for every hub and connection.
        services.AddSingleton<HubConnectionLimitFilter>();
        services.Configure<HubOptions>(hub => hub.AddFilter<HubConnectionLimitFilter>());

        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(InitiatePolicy, http => PerMinute(http, o => o.InitiatePerMinute));
            limiter.AddPolicy(ControlPolicy, http => PerMinute(http, o => o.ControlPerMinute));
            limiter.OnRejected = WriteRejectionAsync;
        });

        // Built from the bound options when first needed, so any configuration source counts.
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CorsOptions>>((cors, allowed) => cors.AddDefaultPolicy(policy => policy
                .WithOrigins(allowed.Value.AllowedOrigins)
                .AllowAnyHeader()
                .AllowAnyMethod()
                // Browsers' SignalR clients send credentials on negotiate.
                .AllowCredentials()
                .WithExposedHeaders("Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed")));
        return services;
    }

    /// <summary>Security headers, CORS, authentication and authorization, rate limiting and the hub's connection limit, in that order, after routing.</summary>
    public static WebApplication UseDownloadsProtection(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseCors();
        // Before the rate limiter: its partitions are per API key where the caller has one.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseMiddleware<HubNegotiateLimitMiddleware>();
        return app;
    }

    private static RateLimitingOptions Options(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value;

    // A fixed one-minute window per client (API key, else address); 0 turns it off.
    private static RateLimitPartition<string> PerMinute(HttpContext http, Func<RateLimitingOptions, int> limit)
    {
        var perMinute = limit(Options(http));
        var client = ClientKeys.Of(http);
        return perMinute == 0
            ? RateLimitPartition.GetNoLimiter(client)
            : RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            });
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        var http = context.HttpContext;
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Problems.WriteAsync(
            http, StatusCodes.Status429TooManyRequests, "Too many requests", "This client has made too many such requests lately; try again after Retry-After seconds.");
    }
}
