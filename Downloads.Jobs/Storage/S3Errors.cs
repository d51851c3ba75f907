using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace Downloads.Jobs.Storage;

/// <summary>What an S3 failure means for a file: gone, refused for good, or worth another attempt.</summary>
internal static class S3Errors
{
    public const string AccessDenied = "storage_access_denied";
    public const string NoSuchBucket = "storage_bucket_missing";

    private static readonly HashSet<string> CredentialErrors = new(StringComparer.Ordinal)
    {
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "AllAccessDisabled", "AccountProblem", "Forbidden",
    };

    /// <summary>Runs one S3 call: <c>null</c> when the object does not exist, a translated exception when it fails (see <see cref="Translate"/>).</summary>
    public static async Task<T?> CallAsync<T>(string key, Func<Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (IsNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException or OperationCanceledException)
        {
            throw Translate(ex, key, cancellationToken);
        }
    }

    public static bool IsNotFound(Exception exception) =>
        exception is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } s3 && s3.ErrorCode != "NoSuchBucket";

    /// <summary>
    /// The exception to throw for <paramref name="exception"/>: a <see cref="StorageAccessException"/> for refused
    /// credentials or a missing bucket, else a <see cref="TransientStorageException"/> (5xx, throttling, timeouts, a server
    /// that does not answer), which the pipeline retries. The caller's own cancellation is not translated.
    /// </summary>
    public static Exception Translate(Exception exception, string key, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return exception;
        }

        return exception switch
        {
            AmazonS3Exception { ErrorCode: "NoSuchBucket" } => new StorageAccessException(NoSuchBucket, $"The bucket of {key} does not exist.", exception),
            AmazonServiceException service
                when service.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized || CredentialErrors.Contains(service.ErrorCode ?? "") =>
                new StorageAccessException(AccessDenied, $"The bucket refused access to {key}: {Describe(exception)}", exception),
            // The SDK says it found no credentials anywhere in the chain: no retry will find them either.
            AmazonClientException when exception.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                new StorageAccessException(AccessDenied, $"No AWS credentials: {exception.Message}", exception),
            _ => new TransientStorageException($"S3 did not serve {key}: {Describe(exception)}", exception),
        };
    }

    private static string Describe(Exception exception) => exception switch
    {
        AmazonServiceException service => $"{(int)service.StatusCode} {service.ErrorCode} {service.Message}".Trim(),
        _ => exception.Message,
    };
}
