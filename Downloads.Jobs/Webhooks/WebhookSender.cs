using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Downloads.Jobs.Webhooks;

/// <summary>One POST of a delivery, signed over exactly <see cref="Body"/> at <see cref="Timestamp"/>.</summary>
public sealed record WebhookRequest(Uri Url, string EventName, Guid DeliveryId, DateTimeOffset Timestamp, string Signature, byte[] Body);

/// <summary>How one attempt ended.</summary>
public enum WebhookAttemptOutcome
{
    /// <summary>A 2xx: acknowledged.</summary>
    Delivered,

    /// <summary>A network error, a timeout, 408, 429 or 5xx: worth another attempt later.</summary>
    Retry,

    /// <summary>Any other answer (3xx, 4xx) or a refused target: another attempt would end the same way.</summary>
    Failed,
}

/// <summary>What one attempt got: its outcome, the status code if there was a response, and the receiver's <c>Retry-After</c>.</summary>
public sealed record WebhookAttemptResult(WebhookAttemptOutcome Outcome, int? StatusCode, TimeSpan? RetryAfter, string Reason);

/// <summary>
/// The typed <see cref="HttpClient"/> of webhooks: one attempt per call. Its handler connects through
/// <see cref="WebhookTargetGuard"/>, follows no redirect, and bounds the attempt by its resilience pipeline's
/// timeout. Retries are not made here but scheduled by <see cref="WebhookDeliveryJob"/>, one Hangfire run per
/// attempt, so that every attempt is recorded and no run outlives Hangfire's invisibility timeout.
/// </summary>
public sealed partial class WebhookSender(HttpClient http, TimeProvider timeProvider, ILogger<WebhookSender> logger)
{
    public const string UserAgent = "Downloads-Webhooks/1.0";

    public async Task<WebhookAttemptResult> SendAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Url);
        message.Headers.TryAddWithoutValidation(WebhookSigner.EventHeader, request.EventName);
        message.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, request.DeliveryId.ToString("D"));
        message.Headers.TryAddWithoutValidation(
            WebhookSigner.TimestampHeader, request.Timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, request.Signature);
        message.Headers.UserAgent.ParseAdd(UserAgent);
        message.Content = new ByteArrayContent(request.Body);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };

        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return Classify(response);
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refusal)
        {
            return new WebhookAttemptResult(WebhookAttemptOutcome.Failed, null, null, refusal.Message);
        }
        catch (HttpRequestException ex)
        {
            LogAttemptError(logger, ex, request.Url.Host);
            return new WebhookAttemptResult(WebhookAttemptOutcome.Retry, null, null, $"network error: {ex.Message}");
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptResult(WebhookAttemptOutcome.Retry, null, null, "timed out");
        }
    }

    private WebhookAttemptResult Classify(HttpResponseMessage response)
    {
        var code = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new WebhookAttemptResult(WebhookAttemptOutcome.Delivered, code, null, "acknowledged");
        }

        return code is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500
            ? new WebhookAttemptResult(WebhookAttemptOutcome.Retry, code, RetryAfter(response), $"answered {code}")
            : new WebhookAttemptResult(WebhookAttemptOutcome.Failed, code, null, $"answered {code}, which is not retried");
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - timeProvider.GetUtcNow(),
        _ => null,
    };

    private static WebhookTargetRefusedException? FindRefusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is WebhookTargetRefusedException refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook to {Host} failed to connect or send; it will be retried")]
    private static partial void LogAttemptError(ILogger logger, Exception exception, string host);
}
