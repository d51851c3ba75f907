using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Links;

public enum LinkCheck
{
    Valid,
    Forged,
    Expired,
}

/// <summary>
/// Makes and checks <c>/v1/files/{file_id}?expires={unix}&amp;signature={hex}</c> links and
/// <c>/v1/archives/{job_id}?expires={unix}&amp;signature={hex}</c> links: an HMAC-SHA256 over what the link
/// serves and its expiry, with a key every node shares.
/// </summary>
public sealed class DownloadLinkSigner(IOptions<LinkOptions> options, TimeProvider timeProvider)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.SigningKey ?? LinkOptions.DevelopmentKey);

    public string CreateUrl(string baseUrl, long fileId, DateTimeOffset expiresAt) =>
        CreateUrl(baseUrl, $"files/{fileId}", FileResource(fileId), expiresAt);

    /// <summary>A signature that does not match is forged; a matching one past its expiry is expired.</summary>
    public LinkCheck Check(long fileId, string? expires, string? signature) => Check(FileResource(fileId), expires, signature);

    /// <summary>
    /// The <c>archive_url</c> of a job that has ended with at least one completed file, else null. It expires with the
    /// job's file links and is signed when asked for, not stored: the same job always gives the same link.
    /// </summary>
    public string? ArchiveUrlOf(DownloadJob job) =>
        job.Header is { ExpiresAt: { } expiresAt, Completed: > 0 } header && header.Status.IsTerminal()
            ? CreateUrl(header.PublicBaseUrl, $"archives/{job.Id:D}", ArchiveResource(job.Id), expiresAt)
            : null;

    public LinkCheck CheckArchive(Guid jobId, string? expires, string? signature) => Check(ArchiveResource(jobId), expires, signature);

    // A file's payload is its bare id, as links made before archives existed were signed; an archive's cannot be a number.
    private static string FileResource(long fileId) => fileId.ToString(CultureInfo.InvariantCulture);

    private static string ArchiveResource(Guid jobId) => $"archive:{jobId:D}";

    private string CreateUrl(string baseUrl, string path, string resource, DateTimeOffset expiresAt)
    {
        var expires = expiresAt.ToUnixTimeSeconds();
        return $"{baseUrl.TrimEnd('/')}/v1/{path}?expires={expires}&signature={Sign(resource, expires)}";
    }

    private LinkCheck Check(string resource, string? expires, string? signature)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix)
            || signature is null
            || !CryptographicOperations.FixedTimeEquals(
                Encoding.ASCII.GetBytes(Sign(resource, expiresUnix)), Encoding.ASCII.GetBytes(signature.ToLowerInvariant())))
        {
            return LinkCheck.Forged;
        }

        return timeProvider.GetUtcNow().ToUnixTimeSeconds() >= expiresUnix ? LinkCheck.Expired : LinkCheck.Valid;
    }

    private string Sign(string resource, long expiresUnix)
    {
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{resource}.{expiresUnix}"));
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, payload));
    }
}
