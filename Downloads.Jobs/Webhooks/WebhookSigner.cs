using System.Security.Cryptography;
using System.Text;
using Downloads.Contracts;
using Downloads.Jobs.Access;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Downloads.Jobs.Webhooks;

/// <summary>
/// Signs deliveries as the Standard Webhooks specification says, with its maintained .NET library:
/// <c>webhook-signature: v1,{base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{raw body}")}</c>, the key
/// being the base64 after <c>whsec_</c>. docs/webhooks.md shows consumers the official verifiers.
/// </summary>
public sealed class WebhookSigner(IOptions<WebhookOptions> options, IOptions<AuthOptions> auth)
{
    public const string EventHeader = "X-Downloads-Event";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    // Name-based UUIDs (RFC 9562 v5) of deliveries live under this namespace.
    private static readonly Guid DeliveryNamespace = new("0d6b3c57-54d4-4a36-9f0e-4e1c2a8b6f10");

    private readonly StandardWebhook _openMode = new(options.Value.SigningSecret ?? WebhookOptions.DevelopmentSecret);

    // Each API key signs its own jobs' deliveries, so no receiver holds a secret that verifies another's.
    private readonly Dictionary<string, StandardWebhook> _byApiKey = auth.Value.ApiKeys
        .Where(k => k.Value.WebhookSecret is not null)
        .ToDictionary(k => k.Key, k => new StandardWebhook(k.Value.WebhookSecret!), StringComparer.Ordinal);

    /// <summary>
    /// The <c>webhook-signature</c> value of <paramref name="body"/>, sent as delivery <paramref name="deliveryId"/> at
    /// <paramref name="timestamp"/>, for a job of <paramref name="apiKeyName"/> (null: open mode); null when that key is
    /// no longer configured, so nothing can sign for it.
    /// </summary>
    public string? Sign(string? apiKeyName, Guid deliveryId, DateTimeOffset timestamp, ReadOnlySpan<byte> body)
    {
        var webhook = apiKeyName is null ? _openMode : _byApiKey.GetValueOrDefault(apiKeyName);
        return webhook?.Sign(deliveryId.ToString("D"), timestamp, Encoding.UTF8.GetString(body));
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
