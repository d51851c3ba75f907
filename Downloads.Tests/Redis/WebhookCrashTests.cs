using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Redis;

/// <summary>
/// A worker process that dies (SIGKILL) while its webhook delivery waits on the receiver: another worker completes
/// the delivery, with the same delivery id, and once it is acknowledged nothing is sent again.
/// </summary>
public sealed class WebhookCrashTests
{
    [Fact]
    public async Task A_delivery_interrupted_by_a_worker_crash_is_completed_once()
    {
        const int invisibilitySeconds = 10;
        await using var receiver = await WebhookReceiver.StartAsync();
        // A delivery, unlike a run, has no lease: Hangfire's invisibility timeout is what gives it to another worker.
        await using var deployment = WorkerCrashTests.Deployment(await RedisServer.Shared)
            .With("Downloads:Redis:InvisibilityTimeoutSeconds", invisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("Downloads:Webhooks:AllowPrivateNetworks", "true")
            .With("Downloads:Webhooks:AllowedPorts", "*")
            .With("Downloads:Webhooks:RetryBaseDelayMs", "20")
            // The first attempt hangs on the receiver until the worker dies, never timing out before.
            .With("Downloads:Webhooks:AttemptTimeoutMs", "120000");
        var api = new DownloadsApi(deployment.Node("api").CreateApiClient());
        var doomed = deployment.Process("worker");
        var url = receiver.Url("/crash", Reply.Hang, Reply.Ok);

        var job = await api.InitiateAsync([70000], url);
        await receiver.WaitForAsync("/crash", 1, TimeSpan.FromSeconds(30));
        await doomed.KillAsync();
        deployment.Node("worker");

        var bound = TimeSpan.FromSeconds(invisibilitySeconds + 60 + 20);
        var delivered = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered, bound);
        // Proving an absence: any further attempt (retries wait 20 ms here) would arrive within this quiet period.
        await Task.Delay(TimeSpan.FromSeconds(3));

        delivered.Webhook!.LastStatusCode.Should().Be(200);
        var received = receiver.Received("/crash");
        received.Should().HaveCount(2, "the interrupted attempt, then the one acknowledged; nothing after it");
        received.Select(r => r.Header("webhook-id")).Distinct().Should().ContainSingle();
        received.Select(r => r.Header("X-Downloads-Event")).Should().AllBe("job.completed");
    }
}
