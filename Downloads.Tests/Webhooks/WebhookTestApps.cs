using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>The service set up for webhook tests: receivers on loopback allowed, retries in milliseconds.</summary>
internal static class WebhookTestApps
{
    public static readonly long[] OneFile = [70000];

    public static DownloadsApplication Create() => new DownloadsApplication()
        .With("Downloads:Webhooks:AllowPrivateNetworks", "true")
        .With("Downloads:Webhooks:AllowedPorts", "*")
        .With("Downloads:Webhooks:RetryBaseDelayMs", "20")
        .With("Downloads:Webhooks:AttemptTimeoutMs", "2000");
}
