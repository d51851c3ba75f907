using System.Globalization;
using Downloads.Jobs.Webhooks;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>Deliveries signed as Standard Webhooks says, checked by its official verifiers as docs/webhooks.md shows.</summary>
public sealed class WebhookSignatureTests : IAsyncLifetime
{
    private const string AnotherSecret = "whsec_YW5vdGhlci1zZWNyZXQtb2YtdGhlLXNhbWUtbGVuZ3RoLTAx";

    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task A_delivery_carries_the_standard_webhooks_headers_and_no_home_made_signature()
    {
        var webhook = await DeliverOneAsync("/headers");

        Guid.TryParseExact(webhook.Header("webhook-id"), "D", out _).Should().BeTrue();
        var timestamp = long.Parse(webhook.Header("webhook-timestamp"), NumberStyles.None, CultureInfo.InvariantCulture);
        DateTimeOffset.FromUnixTimeSeconds(timestamp).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        webhook.Header("webhook-signature").Should().MatchRegex("^v1,[A-Za-z0-9+/]{43}=$");
        webhook.Header("X-Downloads-Event").Should().Be("job.completed");
        webhook.Headers.Keys.Should().NotContain(["X-Downloads-Signature", "X-Downloads-Delivery"]);
    }

    [Fact]
    public async Task The_dotnet_verifier_accepts_a_real_delivery()
    {
        var webhook = await DeliverOneAsync("/dotnet");

        StandardWebhookVerifiers.DotNet(webhook, DownloadsApplication.WebhookSecret).Should().BeTrue();
    }

    [Fact]
    public async Task The_dotnet_verifier_rejects_a_tampered_delivery_or_another_secret()
    {
        var webhook = await DeliverOneAsync("/dotnet-tampered");

        StandardWebhookVerifiers.DotNet(Tampered(webhook), DownloadsApplication.WebhookSecret).Should().BeFalse();
        StandardWebhookVerifiers.DotNet(webhook, AnotherSecret).Should().BeFalse();
    }

    [Fact]
    public async Task The_typescript_verifier_accepts_a_real_delivery()
    {
        var webhook = await DeliverOneAsync("/ts");

        (await StandardWebhookVerifiers.TypeScriptAsync(webhook, DownloadsApplication.WebhookSecret)).Should().Be("valid");
    }

    [Fact]
    public async Task The_typescript_verifier_rejects_a_tampered_delivery_or_another_secret()
    {
        var webhook = await DeliverOneAsync("/ts-tampered");

        (await StandardWebhookVerifiers.TypeScriptAsync(Tampered(webhook), DownloadsApplication.WebhookSecret)).Should().StartWith("invalid");
        (await StandardWebhookVerifiers.TypeScriptAsync(webhook, AnotherSecret)).Should().StartWith("invalid");
    }

    [SkippableFact]
    public async Task The_docs_openssl_one_liner_verifies_a_real_delivery()
    {
        Skip.If(FindOnPath("openssl") is null, "openssl is not installed on this machine");
        var webhook = await DeliverOneAsync("/openssl");
        var body = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(body, webhook.Body);
            // The one-liner of docs/webhooks.md, as a consumer would paste it.
            var script = """
                KEY=$(printf '%s' "${SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
                [ "v1,$({ printf '%s.%s.' "$ID" "$TS"; cat "$BODY"; } | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY" -binary | base64)" = "$SIG" ] && echo valid || echo INVALID
                """;
            (await RunBashAsync(script, webhook, body, DownloadsApplication.WebhookSecret)).Should().Be("valid");
            (await RunBashAsync(script, webhook, body, AnotherSecret)).Should().Be("INVALID");
        }
        finally
        {
            File.Delete(body);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    [InlineData("a-forty-character-secret-without-prefix-0")]
    [InlineData("whsec_not*base64")]
    [InlineData("whsec_c2hvcnQ=")]
    public void Outside_development_the_service_refuses_to_start_without_a_proper_secret(string? secret)
    {
        using var app = new DownloadsApplication().InEnvironment("Production").With("Downloads:Webhooks:SigningSecret", secret);

        var start = () => app.BaseAddress;

        start.Should().Throw<Exception>().Where(e => e.ToString().Contains("Downloads:Webhooks:SigningSecret"));
    }

    [Fact]
    public void The_development_default_is_a_valid_secret() =>
        WebhookSecretRule.Problem(WebhookOptions.DevelopmentSecret).Should().BeNull();

    // The same headers over a body with one byte more.
    private static ReceivedWebhook Tampered(ReceivedWebhook webhook) => webhook with { Body = [.. webhook.Body, (byte)' '] };

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

    private static async Task<string> RunBashAsync(string script, ReceivedWebhook webhook, string body, string secret)
    {
        var (_, output) = await ExternalCommand.RunAsync("bash", ["-c", script], environment: new Dictionary<string, string>
        {
            ["ID"] = webhook.Header("webhook-id"),
            ["TS"] = webhook.Header("webhook-timestamp"),
            ["SIG"] = webhook.Header("webhook-signature"),
            ["BODY"] = body,
            ["SECRET"] = secret,
        });
        return output;
    }
}
