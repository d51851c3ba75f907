using Amazon.S3;
using Amazon.S3.Model;

namespace Downloads.Jobs.Storage;

/// <summary>
/// Files as objects <c>{Prefix}{file_id}.zip</c> in an S3(-compatible) bucket. Size, version and, where the bucket keeps
/// one, the SHA-256 come from <c>HeadObject</c>; bytes from (ranged) <c>GetObject</c>s.
/// </summary>
public sealed class S3FileStorage(S3Bucket bucket) : IFileStorage
{
    public async Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken)
    {
        var key = bucket.Options.KeyOf(fileId);
        var head = await S3Errors.CallAsync(
            key,
            () => bucket.Client.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = bucket.Name, Key = key, ChecksumMode = ChecksumMode.ENABLED }, cancellationToken),
            cancellationToken);
        return head is null
            ? null
            : new StoredFile(
                fileId,
                head.ContentLength,
                head.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime()) : DateTimeOffset.UnixEpoch,
                Sha256OfWholeObject(head.ChecksumSHA256, head.ChecksumType?.Value));
    }

    public async Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken)
    {
        var key = bucket.Options.KeyOf(fileId);
        var response = await S3Errors.CallAsync(
            key, () => bucket.Client.GetObjectAsync(new GetObjectRequest { BucketName = bucket.Name, Key = key }, cancellationToken), cancellationToken);
        return response is null ? null : new S3ObjectStream(bucket, key, response);
    }

    /// <summary>A listing of one key: it needs the bucket to exist and the credentials to be accepted, as serving files does.</summary>
    public Task ProbeAsync(CancellationToken cancellationToken) =>
        S3Errors.CallAsync(
            $"s3://{bucket.Name}/{bucket.Options.Prefix}",
            () => bucket.Client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = bucket.Name, Prefix = bucket.Options.Prefix, MaxKeys = 1 }, cancellationToken),
            cancellationToken);

    /// <summary>
    /// The hex SHA-256 of the whole object from its base64 checksum; null without one, or for a multipart object's
    /// composite checksum (a hash of the parts' hashes, <c>…-N</c>), which is not the SHA-256 of the bytes.
    /// </summary>
    public static string? Sha256OfWholeObject(string? checksumSha256, string? checksumType)
    {
        if (string.IsNullOrEmpty(checksumSha256) || checksumSha256.Contains('-', StringComparison.Ordinal)
            || string.Equals(checksumType, "COMPOSITE", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var bytes = new byte[32];
        return Convert.TryFromBase64String(checksumSha256, bytes, out var written) && written == 32 ? Convert.ToHexStringLower(bytes) : null;
    }
}
