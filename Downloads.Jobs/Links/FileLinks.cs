using Amazon.S3;
using Amazon.S3.Model;
using S3Bucket = Downloads.Jobs.Storage.S3Bucket;
using Downloads.Jobs.Storage;

namespace Downloads.Jobs.Links;

/// <summary>How a completed file's <c>download_url</c> is made (<c>Downloads:Links:Mode</c>).</summary>
public interface IFileLinks
{
    string CreateUrl(string publicBaseUrl, long fileId, DateTimeOffset expiresAt);
}

/// <summary><c>proxy</c>: a link signed for this service's <c>/v1/files/…</c>, which streams the bytes from storage.</summary>
public sealed class ProxyFileLinks(DownloadLinkSigner signer) : IFileLinks
{
    public string CreateUrl(string publicBaseUrl, long fileId, DateTimeOffset expiresAt) => signer.CreateUrl(publicBaseUrl, fileId, expiresAt);
}

/// <summary>
/// <c>presigned</c>: a SigV4-presigned <c>GET</c> of the object, so the bytes go from the bucket to the client, saved as
/// <c>{file_id}.zip</c> (<c>response-content-disposition</c>). Presigning is local: no request to the bucket.
/// </summary>
public sealed class PresignedFileLinks(S3Bucket bucket) : IFileLinks
{
    public string CreateUrl(string publicBaseUrl, long fileId, DateTimeOffset expiresAt)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = bucket.Name,
            Key = bucket.Options.KeyOf(fileId),
            Verb = HttpVerb.GET,
            Expires = expiresAt.UtcDateTime,
            Protocol = bucket.PresignsHttp ? Protocol.HTTP : Protocol.HTTPS,
        };
        request.ResponseHeaderOverrides.ContentDisposition = $"attachment; filename=\"{fileId}.zip\"";
        return bucket.PresignClient.GetPreSignedURL(request);
    }
}
