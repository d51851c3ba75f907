using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Links;

public enum LinkCheck
{
    Valid,
    Forged,
    Expired,
}

/// <summary>
/// Makes and checks <c>/v1/files/{file_id}?expires={unix}&amp;signature={hex}</c> links:
/// an HMAC-SHA256 over the file id and the expiry, with a key every node shares.
/// </summary>
public sealed class DownloadLinkSigner(IOptions<LinkOptions> options, TimeProvider timeProvider)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.SigningKey ?? LinkOptions.DevelopmentKey);

    public string CreateUrl(string baseUrl, long fileId, DateTimeOffset expiresAt)
    {
        var expires = expiresAt.ToUnixTimeSeconds();
        return $"{baseUrl.TrimEnd('/')}/v1/files/{fileId}?expires={expires}&signature={Sign(fileId, expires)}";
    }

    /// <summary>A signature that does not match is forged; a matching one past its expiry is expired.</summary>
    public LinkCheck Check(long fileId, string? expires, string? signature)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix)
            || signature is null
            || !CryptographicOperations.FixedTimeEquals(
                Encoding.ASCII.GetBytes(Sign(fileId, expiresUnix)), Encoding.ASCII.GetBytes(signature.ToLowerInvariant())))
        {
            return LinkCheck.Forged;
        }

        return timeProvider.GetUtcNow().ToUnixTimeSeconds() >= expiresUnix ? LinkCheck.Expired : LinkCheck.Valid;
    }

    private string Sign(long fileId, long expiresUnix)
    {
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{fileId}.{expiresUnix}"));
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, payload));
    }
}
