using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Redis;

/// <summary>
/// Redis stops mid-run (a private, durable redis-server killed and restarted on its port): requests answer 503
/// problem+json quickly instead of hanging or failing with 500, and once Redis is back the service recovers by
/// itself and the job that was running finishes.
/// </summary>
public sealed class RedisOutageTests
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Requests_answer_503_while_Redis_is_down_and_the_service_recovers_when_it_returns()
    {
        await using var redis = await RedisServer.StartPrivateAsync(durable: true);
        await using var deployment = new RedisDeployment(redis)
            .With("Downloads:Redis:InvisibilityTimeoutSeconds", "15")
            .With("Downloads:Processing:DelayMinMs", "400")
            .With("Downloads:Processing:DelayMaxMs", "600")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "2");
        var api = new DownloadsApi(deployment.Node("all").CreateApiClient());
        var running = await api.InitiateAsync([70000, 70007, 70014, 70021, 70028, 70035]);
        await api.WaitForAsync(running.JobId, s => s.Progress.Completed >= 1);

        await redis.StopAsync();

        await ExpectUnavailableAsync(() => api.Http.PostAsJsonAsync("/v1/download/initiate", new InitiateDownloadRequest([70042], null), DownloadsApi.Json));
        await ExpectUnavailableAsync(() => api.Http.GetAsync($"/v1/download/status/{running.JobId}"));
        using (var ready = await api.Http.GetAsync("/health/ready").DefaultTimeout())
        {
            ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        }

        await redis.StartAsync();

        var fresh = await InitiateOnceRedisAnswersAsync(api);
        // A file run that failed mid-outage is retried by Hangfire at once; one whose fetch was lost waits for
        // the invisibility timeout and Hangfire's next check (every 60 s).
        var bound = TimeSpan.FromSeconds(15 + 60 + 20);
        (await api.WaitForEndAsync(running.JobId, bound)).Status.Should().Be(JobStatus.Completed, "a 202-acknowledged job is not lost");
        (await api.WaitForEndAsync(fresh.JobId, bound)).Status.Should().Be(JobStatus.Completed);
    }

    private static async Task ExpectUnavailableAsync(Func<Task<HttpResponseMessage>> send)
    {
        var clock = Stopwatch.StartNew();
        using var response = await send().DefaultTimeout();
        clock.Elapsed.Should().BeLessThan(AnswerBound);
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, await response.Content.ReadAsStringAsync());
        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("status").GetInt32().Should().Be(503);
        response.Headers.RetryAfter.Should().NotBeNull();
    }

    // The multiplexer reconnects by itself within a second or two; until then initiate still answers 503.
    private static async Task<InitiateDownloadResponse> InitiateOnceRedisAnswersAsync(DownloadsApi api)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            using var response = await api.Http.PostAsJsonAsync(
                "/v1/download/initiate", new InitiateDownloadRequest([70042], null), DownloadsApi.Json, deadline.Token);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json, deadline.Token))!;
            }

            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            await Task.Delay(200, deadline.Token);
        }
    }
}
