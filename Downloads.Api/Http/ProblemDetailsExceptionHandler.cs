using System.Globalization;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Storage;
using Downloads.Jobs.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using StackExchange.Redis;

namespace Downloads.Api.Http;

/// <summary>The one mapping from exceptions to problem+json. No answer ever carries a stack trace.</summary>
public sealed partial class ProblemDetailsExceptionHandler(
    IProblemDetailsService problems, ILogger<ProblemDetailsExceptionHandler> logger, DownloadsMetrics metrics)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true;
        }

        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, ReasonOf(bad.StatusCode), bad.Message),
            JobStoreFullException => (StatusCodes.Status503ServiceUnavailable, "Service at capacity",
                "The service holds as many jobs as its memory allows; try again after Retry-After seconds, when stored jobs have expired."),
            JobStoreUnavailableException or RedisException or TimeoutException =>
                (StatusCodes.Status503ServiceUnavailable, "Service unavailable", "A dependency of the service (Redis) is unavailable; try again shortly."),
            TransientStorageException or StorageAccessException =>
                (StatusCodes.Status503ServiceUnavailable, "Storage unavailable", "The file storage does not answer or refuses access; try again shortly."),
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "The request failed; its request_id identifies it in the logs."),
        };
        httpContext.Response.StatusCode = status;
        if (exception is JobStoreFullException full)
        {
            // A protection working, not a failure: no error log, and a wait of at least a second, at most an hour.
            LogAtCapacity(logger, full.RetryAfter);
            httpContext.Response.Headers.RetryAfter = ((int)Math.Clamp(Math.Ceiling(full.RetryAfter.TotalSeconds), 1, 3600)).ToString(CultureInfo.InvariantCulture);
        }
        else if (status >= 500)
        {
            LogFailed(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        if (status == StatusCodes.Status503ServiceUnavailable && exception is not JobStoreFullException)
        {
            if (exception is not (TransientStorageException or StorageAccessException))
            {
                metrics.RedisError("api");
            }

            httpContext.Response.Headers.RetryAfter = "5";
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static string ReasonOf(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Request body too large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
        _ => "Bad request",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A new job was refused: the job store is full; room is expected in {RetryAfter}")]
    private static partial void LogAtCapacity(ILogger logger, TimeSpan retryAfter);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string path);
}
