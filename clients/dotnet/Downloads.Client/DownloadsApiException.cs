using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Downloads.Client;

/// <summary>The service answered outside 2xx; <see cref="Problem"/> holds its problem details (RFC 9457).</summary>
public sealed class DownloadsApiException : Exception
{
    public DownloadsApiException(HttpStatusCode statusCode, ProblemDetails? problem, TimeSpan? retryAfter)
        : base(problem?.Detail ?? problem?.Title ?? $"HTTP {(int)statusCode}")
    {
        StatusCode = statusCode;
        Problem = problem;
        RetryAfter = retryAfter;
    }

    public DownloadsApiException()
        : this(HttpStatusCode.InternalServerError, null, null)
    {
    }

    public DownloadsApiException(string message)
        : base(message)
    {
    }

    public DownloadsApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HttpStatusCode StatusCode { get; }

    public ProblemDetails? Problem { get; }

    /// <summary>From <c>Retry-After</c> (429, 503).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>401, 403 and 404 do not change by asking again: following stops.</summary>
    internal bool IsFatal => StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound;

    internal static async Task<DownloadsApiException> FromAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<ProblemDetails>(ClientJson.Options, cancellationToken);
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's page): the status code says enough.
        }

        return new DownloadsApiException(response.StatusCode, problem, response.Headers.RetryAfter?.Delta);
    }
}

/// <summary>An error of the service, as <c>application/problem+json</c>.</summary>
public sealed record ProblemDetails(
    string? Type,
    string? Title,
    int? Status,
    string? Detail,
    string? RequestId,
    IReadOnlyDictionary<string, string[]>? Errors);
