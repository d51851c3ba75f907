using Downloads.Api.Http;
using Downloads.Api.Operations;

namespace Downloads.Api.Protection;

/// <summary>
/// Security headers on every response. The content security policy fits the bundled client at <c>/</c> (its own
/// scripts and styles, a data: icon, the hub over WebSockets); the dashboard and the API reference bring inline
/// scripts of their own and get no CSP, and the dashboard may frame itself.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var tool = path.StartsWithSegments(OperationsServiceCollectionExtensions.DashboardPath) || path.StartsWithSegments(ApiDocs.ReferencePath);
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = tool ? "SAMEORIGIN" : "DENY";
            if (!tool)
            {
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    }
}
