using System.Net;
using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Webhooks;
using Downloads.Tests.Infrastructure;
using Hangfire;

namespace Downloads.Tests.Webhooks;

/// <summary>Deliveries end to end: a real service posting to a real receiver on loopback.</summary>
public sealed class WebhookDeliveryTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Server_errors_are_retried_until_acknowledged_then_nothing_more_is_sent()
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());
        var url = _receiver.Url("/retry", new Reply(500), new Reply(500), Reply.Ok);

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, url);
        var status = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);

        status.Webhook.Should().Be(new WebhookState(WebhookStatus.Delivered, 3, 200));
        await AssertNoMoreRequestsAsync("/retry", expected: 3);
        var received = _receiver.Received("/retry");
        received.Select(r => r.Header("webhook-id")).Distinct().Should().ContainSingle()
            .Which.Should().Be(WebhookSigner.DeliveryId(job.JobId).ToString("D"));
        received.Should().OnlyContain(r => r.Header("X-Downloads-Event") == "job.completed");
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(302)]
    public async Task Other_answers_are_not_retried_and_the_delivery_fails(int answer)
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());
        // A redirect is not followed: the target it names is never asked.
        var url = _receiver.Url("/reject", new Reply(answer, Location: new Uri(_receiver.BaseAddress, "/elsewhere").ToString()));

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, url);
        var status = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Failed);

        status.Webhook.Should().Be(new WebhookState(WebhookStatus.Failed, 1, answer));
        await AssertNoMoreRequestsAsync("/reject", expected: 1);
        _receiver.Received("/elsewhere").Should().BeEmpty();
    }

    [Fact]
    public async Task Retries_stop_after_max_attempts_and_the_delivery_fails()
    {
        await using var app = WebhookTestApps.Create().With("Downloads:Webhooks:MaxAttempts", "3");
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, _receiver.Url("/down", new Reply(502)));
        var status = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Failed);

        status.Webhook.Should().Be(new WebhookState(WebhookStatus.Failed, 3, 502));
        await AssertNoMoreRequestsAsync("/down", expected: 3);
    }

    [Fact]
    public async Task Too_many_requests_is_retried_after_the_receivers_retry_after()
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, _receiver.Url("/busy", new Reply(429, RetryAfter: "2"), Reply.Ok));
        await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);

        var received = _receiver.Received("/busy");
        received.Should().HaveCount(2);
        (received[1].ReceivedAt - received[0].ReceivedAt).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9));
    }

    [Fact]
    public async Task A_slow_receiver_hits_the_attempt_timeout_and_is_retried()
    {
        // Long enough for a prompt answer on a loaded 2-core machine, far below the slow reply.
        await using var app = WebhookTestApps.Create().With("Downloads:Webhooks:AttemptTimeoutMs", "1500");
        var api = new DownloadsApi(app.CreateApiClient());
        var url = _receiver.Url("/slow", new Reply(200, TimeSpan.FromSeconds(15)), Reply.Ok);

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, url);
        var status = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);

        // The first attempt timed out, so it has no status code; the second one was acknowledged.
        status.Webhook.Should().Be(new WebhookState(WebhookStatus.Delivered, 2, 200));
        _receiver.Received("/slow").Select(r => r.Header("webhook-id")).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Receivers_that_never_answer_do_not_hold_up_other_jobs_webhooks()
    {
        await using var app = WebhookTestApps.Create().With("Downloads:Webhooks:AttemptTimeoutMs", "20000");
        var api = new DownloadsApi(app.CreateApiClient());
        var hanging = _receiver.Url("/hang", Reply.Hang);
        for (var i = 0; i < 3; i++)
        {
            await api.InitiateAsync(WebhookTestApps.OneFile, hanging);
        }

        await _receiver.WaitForAsync("/hang", 3);
        var started = DateTimeOffset.UtcNow;
        await api.InitiateAsync(WebhookTestApps.OneFile, _receiver.Url("/prompt"));
        await _receiver.WaitForAsync("/prompt", timeout: TimeSpan.FromSeconds(5));

        (DateTimeOffset.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Status_document_shows_the_delivery_pending_then_delivered()
    {
        // A file of 1 s: the first status read comes before the job ends and its first attempt is made.
        await using var app = WebhookTestApps.Create()
            .With("Downloads:Processing:DelayMinMs", "1000")
            .With("Downloads:Processing:DelayMaxMs", "1000");
        var api = new DownloadsApi(app.CreateApiClient());
        var url = _receiver.Url("/status", new Reply(500), new Reply(200, TimeSpan.FromSeconds(1)));

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, url);
        var created = await api.StatusAsync(job.JobId);
        await _receiver.WaitForAsync("/status", 2);
        var inFlight = await api.StatusAsync(job.JobId);
        var done = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status != WebhookStatus.Pending);

        created.Webhook.Should().Be(new WebhookState(WebhookStatus.Pending, 0, null));
        inFlight.Webhook.Should().Be(new WebhookState(WebhookStatus.Pending, 2, 500));
        done.Webhook.Should().Be(new WebhookState(WebhookStatus.Delivered, 2, 200));
        // A delivery is not a change of the job: its seq stayed where the job ended.
        done.Seq.Should().Be(inFlight.Seq);
    }

    [Fact]
    public async Task A_job_without_callback_has_no_webhook()
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await api.InitiateAsync(WebhookTestApps.OneFile);
        var status = await api.WaitForEndAsync(job.JobId);

        status.Webhook.Should().BeNull();
    }

    [Fact]
    public async Task Cancelling_a_job_delivers_job_cancelled()
    {
        await using var app = WebhookTestApps.Create()
            .With("Downloads:Processing:DelayMinMs", "5000")
            .With("Downloads:Processing:DelayMaxMs", "5000");
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob, _receiver.Url("/cancel"));
        using var cancel = await api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();
        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var webhook = (await _receiver.WaitForAsync("/cancel")).Single();

        webhook.Header("X-Downloads-Event").Should().Be("job.cancelled");
        var body = JsonSerializer.Deserialize<JobEvent>(webhook.Body, DownloadsJson.Options)!;
        body.Type.Should().Be(JobEventType.Cancelled);
        body.JobId.Should().Be(job.JobId);
        body.Results.Should().HaveCount(3);
        await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);
    }

    [Fact]
    public async Task The_body_is_the_terminal_event_with_results()
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob, _receiver.Url("/body"));
        var webhook = (await _receiver.WaitForAsync("/body")).Single();
        var status = await api.WaitForEndAsync(job.JobId);

        webhook.Header("Content-Type").Should().StartWith("application/json");
        using var json = JsonDocument.Parse(webhook.Body);
        json.RootElement.GetProperty("type").GetString().Should().Be("completed");
        json.RootElement.GetProperty("job_id").GetString().Should().Be(job.JobId.ToString("D"));
        json.RootElement.GetProperty("seq").GetInt64().Should().Be(status.Seq);
        json.RootElement.GetProperty("results").GetArrayLength().Should().Be(3);
    }

    [Fact]
    public async Task Running_the_delivery_again_after_it_was_acknowledged_sends_nothing()
    {
        await using var app = WebhookTestApps.Create();
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(WebhookTestApps.OneFile, _receiver.Url("/once"));
        await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);

        // As if the terminal transition were processed again, or a worker re-ran the delivery after a crash.
        var jobs = app.Services.GetRequiredService<IBackgroundJobClient>();
        jobs.Enqueue<WebhookDeliveryJob>(j => j.DeliverAsync(job.JobId, 1, null, CancellationToken.None));
        jobs.Enqueue<WebhookDeliveryJob>(j => j.DeliverAsync(job.JobId, 2, null, CancellationToken.None));
        await app.Services.GetRequiredService<WebhookTrigger>().EnsureDeliveryAsync(
            (await app.Services.GetRequiredService<JobLedger>().GetHeaderAsync(job.JobId, CancellationToken.None))!,
            CancellationToken.None);

        await AssertNoMoreRequestsAsync("/once", expected: 1);
        (await api.StatusAsync(job.JobId)).Webhook.Should().Be(new WebhookState(WebhookStatus.Delivered, 1, 200));
    }

    // Proving that nothing more comes needs a wait; it is bounded and short (scheduled runs poll every second).
    private async Task AssertNoMoreRequestsAsync(string path, int expected)
    {
        var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5);
        while (DateTimeOffset.UtcNow < until)
        {
            _receiver.Received(path).Should().HaveCount(expected);
            await Task.Delay(100);
        }
    }
}
