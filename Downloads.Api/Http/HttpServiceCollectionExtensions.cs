using Downloads.Api.Downloads;
using Downloads.Api.Operations;
using Downloads.Jobs;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Mvc;

namespace Downloads.Api.Http;

public static class HttpServiceCollectionExtensions
{
    /// <summary>Controllers with the service's JSON shape, and one problem+json shape for every error.</summary>
    public static IServiceCollection AddDownloadsHttp(this IServiceCollection services, IConfiguration configuration)
    {
        services
            .AddControllers()
            .AddJsonOptions(options => DownloadsJson.Configure(options.JsonSerializerOptions))
            .ConfigureApiBehaviorOptions(options => options.InvalidModelStateResponseFactory = context =>
                Problems.Validation(context.HttpContext, ModelStateErrors.ToContractErrors(context.ModelState), "The request body is not valid JSON of the expected shape."));
        services.ConfigureHttpJsonOptions(options => DownloadsJson.Configure(options.SerializerOptions));

        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["request_id"] = context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Extensions.Remove("traceId");
        });
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        services.AddDownloadsApiDocs();
        services.AddOptions<PublicUrlOptions>().BindConfiguration(PublicUrlOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PublicUrls>();

        services.Configure<ForwardedHeadersOptions>(options =>
        {
            // Honoured from trusted proxies only: loopback (unless ForwardedHeaders:TrustLoopback is false), the
            // addresses under ForwardedHeaders:KnownProxies and the CIDR ranges under ForwardedHeaders:KnownNetworks.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            if (!configuration.GetValue("ForwardedHeaders:TrustLoopback", defaultValue: true))
            {
                options.KnownIPNetworks.Clear();
                options.KnownProxies.Clear();
            }

            foreach (var proxy in ConfiguredList(configuration, "ForwardedHeaders:KnownProxies"))
            {
                options.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            foreach (var network in ConfiguredList(configuration, "ForwardedHeaders:KnownNetworks"))
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }

            // With both lists empty the middleware would trust every address: trust none instead.
            if (options.KnownIPNetworks.Count == 0 && options.KnownProxies.Count == 0)
            {
                options.ForwardedHeaders = ForwardedHeaders.None;
            }
        });
        return services;
    }

    // A list setting without blank entries (an empty environment variable is not an address).
    private static IEnumerable<string> ConfiguredList(IConfiguration configuration, string key) =>
        configuration.GetSection(key).GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Trim().Length > 0);

    /// <summary>The HTTP pipeline's front: proxies' headers, request ids, request logging, errors as problem+json.</summary>
    public static WebApplication UseDownloadsHttp(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseDownloadsRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static IEndpointRouteBuilder MapDownloadsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapControllers();
        endpoints.MapDownloadsApiDocs();
        return endpoints;
    }
}
