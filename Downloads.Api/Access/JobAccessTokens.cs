using System.Security.Cryptography;
using System.Text;
using Downloads.Jobs.Links;
using LinkOptions = Downloads.Jobs.Links.LinkOptions;
using Microsoft.Extensions.Options;

namespace Downloads.Api.Access;

/// <summary>
/// Job access tokens: <c>jat_{base64url HMAC-SHA256(key, job id)}</c>. Scoped to one job, valid as long as the job
/// exists, nothing stored; not derivable from the job id without the server's key. The key is derived from
/// <c>Downloads:Links:SigningKey</c> (already shared by every node) under a label of its own, so a token is never
/// a valid link signature and no third secret has to be configured.
/// </summary>
public sealed class JobAccessTokens(IOptions<LinkOptions> links)
{
    public const string Prefix = "jat_";

    private readonly byte[] _key = HMACSHA256.HashData(
        Encoding.UTF8.GetBytes(links.Value.SigningKey ?? LinkOptions.DevelopmentKey),
        "downloads/job-access-token/v1"u8);

    public string For(Guid jobId) => Prefix + Convert.ToBase64String(Mac(jobId)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Whether <paramref name="token"/> is the token of <paramref name="jobId"/>, compared in constant time.</summary>
    public bool IsValid(string? token, Guid jobId) =>
        token is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(For(jobId)));

    public static bool LooksLikeToken(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    private byte[] Mac(Guid jobId)
    {
        Span<byte> id = stackalloc byte[16];
        jobId.TryWriteBytes(id, bigEndian: true, out _);
        return HMACSHA256.HashData(_key, id);
    }
}
