using System.Net;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Jobs.Webhooks;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>The SSRF rule: callbacks reach public addresses only, unless private networks are allowed.</summary>
public sealed class WebhookTargetTests : IClassFixture<WebhookTargetTests.DefaultApp>
{
    private readonly DefaultApp _app;
    private readonly DownloadsApi _api;

    public WebhookTargetTests(DefaultApp app)
    {
        _app = app;
        _api = new DownloadsApi(app.CreateApiClient());
    }

    /// <summary>The service as configured by default: private networks not allowed.</summary>
    public sealed class DefaultApp : DownloadsApplication;

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://192.168.1.10/")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("https://localhost/hook")]
    [InlineData("http://0.0.0.0/")]
    public async Task Private_targets_are_refused_at_initiate(string callbackUrl)
    {
        using var response = await _api.PostJsonAsync(
            "/v1/download/initiate", $$"""{ "file_ids": [70000], "callback_url": "{{callbackUrl}}" }""");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("errors").GetProperty("callback_url")[0].GetString().Should().Be(WebhookTargetGuard.RefusalMessage);
    }

    [Theory]
    [InlineData("https://8.8.8.8:8443/hook", 8443)]
    [InlineData("http://8.8.8.8:22/", 22)]
    [InlineData("http://8.8.8.8:6379/", 6379)]
    public async Task Ports_other_than_80_and_443_are_refused_at_initiate(string callbackUrl, int port)
    {
        using var response = await _api.PostJsonAsync(
            "/v1/download/initiate", $$"""{ "file_ids": [70000], "callback_url": "{{callbackUrl}}" }""");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("errors").GetProperty("callback_url")[0].GetString().Should().Contain($"not {port}");
    }

    [Fact]
    public void The_webhook_client_connects_directly_whatever_HTTP_PROXY_or_HTTPS_PROXY_say()
    {
        var factory = _app.Services.GetRequiredService<IHttpMessageHandlerFactory>();

        var handler = factory.CreateHandler(nameof(WebhookSender));
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        // With UseProxy the guard's ConnectCallback would be handed the proxy's address, not the callback's.
        handler.Should().BeOfType<SocketsHttpHandler>().Which.UseProxy.Should().BeFalse();
    }

    [Fact]
    public async Task A_target_refused_at_delivery_is_recorded_as_failed_without_retries()
    {
        // Accepted at initiate, as a host that resolved to a public address then would have been (before rebinding).
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.Url("/late");
        var commands = _app.Services.GetRequiredService<DownloadJobCommands>();
        var outcome = await commands.InitiateAsync(WebhookTestApps.OneFile, url, _app.BaseAddress.ToString(), null, null, "127.0.0.1", CancellationToken.None);

        var status = await _api.WaitForAsync(outcome.JobId, s => s.Webhook?.Status != WebhookStatus.Pending);

        status.Webhook.Should().Be(new WebhookState(WebhookStatus.Failed, 1, null));
        receiver.Received("/late").Should().BeEmpty();
    }
}
