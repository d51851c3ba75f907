using System.Diagnostics;
using System.Globalization;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>The signature, checked as docs/webhooks.md tells consumers to, and the secret it needs.</summary>
public sealed class WebhookSignatureTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Signature_verifies_with_the_secret_and_not_with_another()
    {
        var webhook = await DeliverOneAsync("/signed");

        webhook.Header("X-Downloads-Signature").Should().MatchRegex("^t=[0-9]+,v1=[0-9a-f]{64}$");
        var t = long.Parse(webhook.Header("X-Downloads-Signature")[2..webhook.Header("X-Downloads-Signature").IndexOf(',')], CultureInfo.InvariantCulture);
        DateTimeOffset.FromUnixTimeSeconds(t).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        WebhookReceiver.SignatureIsValid(webhook, DownloadsApplication.WebhookSecret).Should().BeTrue();
        WebhookReceiver.SignatureIsValid(webhook, "another-secret-of-the-same-length-0123").Should().BeFalse();
        WebhookReceiver.SignatureIsValid(webhook with { Body = [.. webhook.Body, (byte)' '] }, DownloadsApplication.WebhookSecret).Should().BeFalse();
    }

    [SkippableFact]
    public async Task The_docs_openssl_one_liner_verifies_a_real_delivery()
    {
        Skip.If(FindOnPath("openssl") is null, "openssl is not installed on this machine");
        var webhook = await DeliverOneAsync("/openssl");
        var header = webhook.Header("X-Downloads-Signature");
        var body = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(body, webhook.Body);
            // The one-liner of docs/webhooks.md, as a consumer would paste it.
            var script = """
                T="${SIG#t=}"; T="${T%%,*}"; V1="${SIG##*v1=}"
                [ "$({ printf '%s.' "$T"; cat "$BODY"; } | openssl dgst -sha256 -hmac "$SECRET" | awk '{print $NF}')" = "$V1" ] && echo valid || echo INVALID
                """;
            (await RunBashAsync(script, ("SIG", header), ("BODY", body), ("SECRET", DownloadsApplication.WebhookSecret))).Should().Be("valid");
            (await RunBashAsync(script, ("SIG", header), ("BODY", body), ("SECRET", "not-the-secret"))).Should().Be("INVALID");
        }
        finally
        {
            File.Delete(body);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    public void Outside_development_the_service_refuses_to_start_without_a_proper_secret(string? secret)
    {
        using var app = new DownloadsApplication().InEnvironment("Production").With("Downloads:Webhooks:SigningSecret", secret);

        var start = () => app.BaseAddress;

        start.Should().Throw<Exception>().Where(e => e.ToString().Contains("Downloads:Webhooks:SigningSecret"));
    }

    private async Task<ReceivedWebhook> DeliverOneAsync(string path)
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());
        await api.InitiateAsync(WebhookTestApps.OneFile, _receiver.Url(path));
        return (await _receiver.WaitForAsync(path)).Single();
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    private static async Task<string> RunBashAsync(string script, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();
        return output.Trim();
    }
}
