using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Downloads.Contracts;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// <c>X-Downloads-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{raw body}")}</c>, and the other
/// names a delivery carries. docs/webhooks.md tells consumers how to check it.
/// </summary>
public sealed class WebhookSigner(IOptions<WebhookOptions> options)
{
    public const string EventHeader = "X-Downloads-Event";
    public const string DeliveryHeader = "X-Downloads-Delivery";
    public const string SignatureHeader = "X-Downloads-Signature";

    // Name-based UUIDs (RFC 9562 v5) of deliveries live under this namespace.
    private static readonly Guid DeliveryNamespace = new("0d6b3c57-54d4-4a36-9f0e-4e1c2a8b6f10");

    private readonly byte[] _secret = Encoding.UTF8.GetBytes(options.Value.SigningSecret ?? WebhookOptions.DevelopmentSecret);

    /// <summary>The header value for <paramref name="body"/>, sent at <paramref name="timestamp"/>.</summary>
    public string Sign(ReadOnlySpan<byte> body, DateTimeOffset timestamp)
    {
        var t = timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.ASCII.GetBytes($"{t}.");
        var payload = new byte[prefix.Length + body.Length];
        prefix.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(prefix.Length));
        return $"t={t},v1={Convert.ToHexStringLower(HMACSHA256.HashData(_secret, payload))}";
    }

    /// <summary><c>job.completed</c>, <c>job.failed</c> or <c>job.cancelled</c>.</summary>
    public static string EventName(JobStatus status) => status switch
    {
        JobStatus.Completed => "job.completed",
        JobStatus.Failed => "job.failed",
        JobStatus.Cancelled => "job.cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Only an ended job has a webhook."),
    };

    /// <summary>
    /// The delivery id: a job has one delivery, so the id is derived from the job id and is the same on every
    /// attempt and every node, with nothing to store.
    /// </summary>
    public static Guid DeliveryId(Guid jobId)
    {
        Span<byte> name = stackalloc byte[32];
        DeliveryNamespace.TryWriteBytes(name[..16], bigEndian: true, out _);
        jobId.TryWriteBytes(name[16..], bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 prescribes for v5 UUIDs; it is no security boundary here.
        SHA1.HashData(name, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
