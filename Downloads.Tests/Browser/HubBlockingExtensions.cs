using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Downloads.Tests.Browser;

public static class HubBlockingExtensions
{
    /// <summary>
    /// Answers 503 on every <c>/ws</c> path, the way a proxy that does not route the hub would:
    /// negotiate fails for every transport, so a client has to fall back to polling the status document.
    /// </summary>
    public static DownloadsApplication WithHubBlocked(this DownloadsApplication app) =>
        app.WithServices(services => services.AddTransient<IStartupFilter, BlockHubStartupFilter>());

    private sealed class BlockHubStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path.StartsWithSegments("/ws"))
                {
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return;
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
