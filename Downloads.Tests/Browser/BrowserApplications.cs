using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Downloads.Tests.Browser;

/// <summary>
/// Jobs a person can watch and act on: one file at a time, one second each. Slow enough to click Pause,
/// Cancel or reload mid-job and to see the bar between 0 and 100, fast enough to keep the suite short.
/// </summary>
public sealed class PacedJobsApplication : DownloadsApplication
{
    public PacedJobsApplication()
    {
        With("Downloads:Processing:DelayMinMs", "1000");
        With("Downloads:Processing:DelayMaxMs", "1000");
        With("Downloads:Processing:MaxParallelFilesPerJob", "1");
    }
}

/// <summary>The browser tests run one class at a time: two chromiums at once on two cores make timings flaky.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}

public static class BrowserApplicationExtensions
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
