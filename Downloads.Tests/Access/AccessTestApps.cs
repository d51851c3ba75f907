using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Access;

/// <summary>The service with two API keys configured, as an operator writes them, and clients holding each.</summary>
internal static class AccessTestApps
{
    public const string KeyA = "key-a-0f6b1d2e3c4a5b6c7d8e9f";
    public const string KeyB = "key-b-9e8d7c6b5a4f3e2d1c0b1a";
    public const string SecretA = "whsec_a2V5LWEtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFi";
    public const string SecretB = "whsec_a2V5LWItd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFi";

    public static DownloadsApplication Create() => WithApiKeys(new DownloadsApplication());

    /// <summary><paramref name="app"/> with keys A and B configured.</summary>
    public static DownloadsApplication WithApiKeys(DownloadsApplication app) => app
        .With("Downloads:Auth:ApiKeys:a:KeySha256", Sha256(KeyA))
        .With("Downloads:Auth:ApiKeys:a:WebhookSecret", SecretA)
        .With("Downloads:Auth:ApiKeys:b:KeySha256", Sha256(KeyB))
        .With("Downloads:Auth:ApiKeys:b:WebhookSecret", SecretB);

    /// <summary>A client that sends <paramref name="key"/> as its bearer (none: a client without a key).</summary>
    public static DownloadsApi Client(DownloadsApplication app, string? key)
    {
        var http = app.CreateApiClient();
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return new DownloadsApi(http);
    }

    public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
