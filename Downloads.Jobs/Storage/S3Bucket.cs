using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Storage;

/// <summary>
/// The configured bucket and its clients: one for requests, one that only presigns links for clients
/// (offline; on <see cref="S3StorageOptions.PublicServiceUrl"/> when clients reach the bucket under another name).
/// </summary>
public sealed class S3Bucket : IDisposable
{
    public S3Bucket(IOptions<StorageOptions> options)
    {
        Options = options.Value.S3;
        Client = CreateClient(Options, Options.ServiceUrl);
        PresignClient = string.IsNullOrEmpty(Options.PublicServiceUrl) ? Client : CreateClient(Options, Options.PublicServiceUrl);
    }

    public S3StorageOptions Options { get; }

    public string Name => Options.Bucket!;

    public IAmazonS3 Client { get; }

    public IAmazonS3 PresignClient { get; }

    /// <summary>Whether links presigned by <see cref="PresignClient"/> are plain http (an s3rver or MinIO on a private network).</summary>
    public bool PresignsHttp => (string.IsNullOrEmpty(Options.PublicServiceUrl) ? Options.ServiceUrl : Options.PublicServiceUrl)
        ?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true;

    public void Dispose()
    {
        Client.Dispose();
        if (!ReferenceEquals(PresignClient, Client))
        {
            PresignClient.Dispose();
        }
    }

    private static AmazonS3Client CreateClient(S3StorageOptions options, string? serviceUrl)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            Timeout = options.RequestTimeout,
            // Retries are the pipeline's (Polly, counted as the file's attempts), not hidden inside the SDK.
            MaxErrorRetry = 0,
            // Checksums are read where the bucket has them (HeadObject); nothing is uploaded.
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(serviceUrl))
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = string.IsNullOrEmpty(options.Region) ? "us-east-1" : options.Region;
        }
        else if (!string.IsNullOrEmpty(options.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }
}
