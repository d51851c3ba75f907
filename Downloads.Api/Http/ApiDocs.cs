using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Downloads.Api.Http;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> (from the controllers' attributes) and a browsable reference at <c>/scalar</c>.</summary>
public static class ApiDocs
{
    public const string DocumentPath = "/openapi/v1.json";

    public const string ReferencePath = "/scalar";

    public const string BearerScheme = "bearer";

    public static IServiceCollection AddDownloadsApiDocs(this IServiceCollection services)
    {
        // Schemas follow the HTTP JSON options (snake_case), which AddDownloadsHttp sets.
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Downloads";
            document.Info.Description =
                "Start long-running downloads and follow them over SignalR (/ws/download), Server-Sent Events or polling. " +
                "Every error is application/problem+json with a request_id.\n\n" +
                "SignalR hub (not an HTTP route, so not listed below): every event arrives as the client method `update` with one JobEvent. " +
                "`/ws/download/{job_id}` follows that job at once, from a `snapshot`; `/ws/download/{job_id}?last_seq=N` resumes after seq N. " +
                "On `/ws/download`: `Subscribe(job_id)` (answered with the `snapshot`), `SubscribeFrom(job_id, last_seq)` (answered with the " +
                "events after last_seq while the job's event log holds them, else a `snapshot`, as the events stream does with Last-Event-ID) " +
                "and `Unsubscribe(job_id)`; `SubscribeWithToken(job_id, access_token)` and `SubscribeFromWithToken(job_id, last_seq, access_token)` do the same with that job's access token.";
            // Where API keys are configured, every /v1/download route needs one (or, on a job's own routes, its access_token).
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description =
                    "An API key (Downloads:Auth:ApiKeys; none configured: open mode, no credential needed), or on a job's own " +
                    "routes (status, result, events, cancel, pause, resume, the hub) that job's access_token, also accepted " +
                    "as the query parameter ?access_token=. Missing or wrong: 401 problem+json.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
            return Task.CompletedTask;
        }));
        return services;
    }

    public static IEndpointRouteBuilder MapDownloadsApiDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json");
        endpoints.MapScalarApiReference(ReferencePath, options => options.WithTitle("Downloads API"));
        return endpoints;
    }
}
