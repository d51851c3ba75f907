using Downloads.Api.Http;
using Downloads.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Downloads.Api.Protection;

/// <summary>
/// On initiate and retry: a 429 when the client already has its limit of jobs, or of files, not yet ended; else the
/// new job is counted with its files.
/// </summary>
public sealed class ActiveJobLimitFilter(ActiveJobLimiter limiter) : IAsyncActionFilter
{
    /// <summary>What a client should wait before trying again: jobs take seconds to minutes.</summary>
    public const int RetryAfterSeconds = 30;

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var client = ClientKeys.Of(context.HttpContext);
        if (!await limiter.MayStartAsync(client, FilesAsked(context), context.HttpContext.RequestAborted))
        {
            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Result = ((ControllerBase)context.Controller).ProblemResult(
                StatusCodes.Status429TooManyRequests,
                "Too many active jobs",
                "This client already has as many jobs, or files, not yet ended as allowed; wait for one to end, or cancel one.");
            return;
        }

        var executed = await next();
        if (executed.Result is ObjectResult { Value: InitiateDownloadResponse started }
            && !context.HttpContext.Response.Headers.ContainsKey("Idempotent-Replayed"))
        {
            limiter.Track(client, started.JobId, started.TotalFiles);
        }
    }

    // An initiate names its files; a retry's count is known only once planned (at least one file).
    private static int FilesAsked(ActionExecutingContext context) =>
        context.ActionArguments.Values.OfType<InitiateDownloadRequest>().FirstOrDefault()?.FileIds?.Count ?? 1;
}
