using System.Net;
using Downloads.Contracts;
using Downloads.Jobs.Webhooks;
using Downloads.Tests.Infrastructure;
using Downloads.Tests.Webhooks;
using Hangfire;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Access;

/// <summary>The side doors are throttled per client: each new limit answers 429 with Retry-After.</summary>
public sealed class LimitsTests
{
    private static readonly long[] SlowJob = [70000, 70007, 70014];

    [Theory]
    [InlineData("DELETE", "/v1/download/{0}")]
    [InlineData("POST", "/v1/download/{0}/pause")]
    [InlineData("POST", "/v1/download/{0}/resume")]
    public async Task Control_routes_are_rate_limited_per_client(string method, string route)
    {
        await using var app = Slow().With("Downloads:RateLimiting:ControlPerMinute", "2");
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(SlowJob);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(route, job.JobId))).DefaultTimeout());
        }

        answers[2].StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        answers[2].Headers.RetryAfter.Should().NotBeNull();
        answers.Take(2).Should().OnlyContain(a => a.StatusCode != HttpStatusCode.TooManyRequests);
        answers.ForEach(a => a.Dispose());
    }

    [Fact]
    public async Task Check_is_rate_limited_per_client()
    {
        await using var app = new DownloadsApplication().With("Downloads:RateLimiting:ControlPerMinute", "2");
        var api = new DownloadsApi(app.CreateApiClient());

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await api.PostJsonAsync("/v1/download/check", """{"file_id":70000}""");
            allowed.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var third = await api.PostJsonAsync("/v1/download/check", """{"file_id":70000}""");
        third.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task A_large_check_body_is_413()
    {
        await using var app = new DownloadsApplication();
        var api = new DownloadsApi(app.CreateApiClient());

        using var response = await api.PostJsonAsync("/v1/download/check", $$"""{"file_id":70000,"padding":"{{new string('x', 4096)}}"}""");

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(413);
    }

    [Fact]
    public async Task Concurrent_sse_streams_are_limited_per_client()
    {
        await using var app = Slow().With("Downloads:RateLimiting:MaxConnectionsPerClient", "1");
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(SlowJob);

        using var first = await api.Http.GetAsync($"/v1/download/events/{job.JobId}", HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        using var second = await api.Http.GetAsync($"/v1/download/events/{job.JobId}", HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        second.Headers.RetryAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task Concurrent_hub_connections_are_limited_per_client()
    {
        await using var app = Slow().With("Downloads:RateLimiting:MaxConnectionsPerClient", "1");
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(SlowJob);
        await using var first = await JobEventRecorder.FollowAsync(app.BaseAddress, job.JobId, HttpTransportType.WebSockets);
        await using var second = JobEventRecorder.Build(new Uri(app.BaseAddress, $"/ws/download/{job.JobId}"), HttpTransportType.WebSockets);

        var start = () => second.StartAsync().DefaultTimeout();

        await start.Should().ThrowAsync<Exception>();
    }

    [Fact]
    public async Task A_repeated_cancel_enqueues_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // One webhook worker, held by a receiver that never answers: the cancelled job's delivery stays enqueued.
        await using var app = WebhookTestApps.Create()
            .With("Downloads:Webhooks:WorkerCount", "1")
            .With("Downloads:Webhooks:AttemptTimeoutMs", "60000");
        var api = new DownloadsApi(app.CreateApiClient());
        await api.InitiateAsync(WebhookTestApps.OneFile, receiver.Url("/hang", Reply.Hang));
        await receiver.WaitForAsync("/hang");
        var job = await api.InitiateAsync(SlowJob, receiver.Url("/cancelled"));
        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();

        using (var first = await api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout())
        {
            first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        // The files in flight stop within a second or two; a run that finds the job ended may start the delivery too.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var enqueued = monitoring.EnqueuedCount(WebhookDeliveryJob.Queue);
        for (var i = 0; i < 3; i++)
        {
            using var again = await api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();
            again.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        enqueued.Should().BeGreaterThan(0);
        monitoring.EnqueuedCount(WebhookDeliveryJob.Queue).Should().Be(enqueued);
    }

    [Fact]
    public async Task A_storage_root_with_a_trailing_slash_works()
    {
        var root = Directory.CreateTempSubdirectory("downloads-root-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(root.FullName, "70000.zip"), new byte[1024]);
            await using var app = new DownloadsApplication()
                .With("Downloads:Storage:Kind", "filesystem")
                .With("Downloads:Storage:Root", root.FullName + "/");
            var api = new DownloadsApi(app.CreateApiClient());

            var job = await api.InitiateAsync([70000]);
            var ended = await api.WaitForEndAsync(job.JobId);

            ended.Status.Should().Be(JobStatus.Completed);
            ended.Results[0].Size.Should().Be(1024);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    // Files slow enough that a job is still running while the test acts on it.
    private static DownloadsApplication Slow() => new DownloadsApplication()
        .With("Downloads:Processing:DelayMinMs", "5000")
        .With("Downloads:Processing:DelayMaxMs", "6000");
}
