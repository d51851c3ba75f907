using System.Globalization;
using Downloads.Api.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Downloads.Api.Protection;

/// <summary>
/// Counts an SSE stream against its client's <see cref="ClientConnections"/> while the action streams; beyond the
/// limit a 429 with <c>Retry-After</c>.
/// </summary>
public sealed class EventStreamLimitFilter(ClientConnections connections) : IAsyncActionFilter
{
    /// <summary>What a client should wait before trying again: streams last as long as a job.</summary>
    public const int RetryAfterSeconds = 60;

    public const string RefusedDetail =
        "This client already holds as many event streams and hub connections as allowed; close one, or try again after Retry-After seconds.";

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var client = ClientKeys.Of(context.HttpContext);
        if (!connections.TryOpen(client))
        {
            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            context.Result = ((ControllerBase)context.Controller).ProblemResult(
                StatusCodes.Status429TooManyRequests,
                "Too many connections",
                RefusedDetail);
            return;
        }

        try
        {
            await next();
        }
        finally
        {
            connections.Close(client);
        }
    }
}
