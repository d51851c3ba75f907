using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Downloads.Tests.Webhooks;

namespace Downloads.Tests.Access;

/// <summary>With API keys configured: every route needs one, and a job belongs to the key that created it.</summary>
public sealed class ApiKeyTests : IAsyncLifetime
{
    private static readonly long[] OneFile = [70000];

    private readonly DownloadsApplication _app = AccessTestApps.Create();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-configured-key")]
    public async Task Initiate_without_a_valid_key_is_401_problem(string? key)
    {
        var api = AccessTestApps.Client(_app, key);

        using var response = await api.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70000]}""");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(401);
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/{0}")]
    [InlineData("GET", "/v1/download/result/{0}")]
    [InlineData("GET", "/v1/download/events/{0}")]
    [InlineData("DELETE", "/v1/download/{0}")]
    [InlineData("POST", "/v1/download/{0}/pause")]
    [InlineData("POST", "/v1/download/{0}/resume")]
    [InlineData("POST", "/ws/download/{0}/negotiate?negotiateVersion=1")]
    [InlineData("POST", "/ws/download/negotiate?negotiateVersion=1")]
    public async Task A_jobs_routes_without_a_key_are_401(string method, string route)
    {
        var job = await AccessTestApps.Client(_app, AccessTestApps.KeyA).InitiateAsync(OneFile);
        var anonymous = AccessTestApps.Client(_app, null);

        using var response = await anonymous.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(route, job.JobId))).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Check_needs_a_key()
    {
        var anonymous = AccessTestApps.Client(_app, null);
        var withKey = AccessTestApps.Client(_app, AccessTestApps.KeyA);

        using var refused = await anonymous.PostJsonAsync("/v1/download/check", """{"file_id":70000}""");
        using var allowed = await withKey.PostJsonAsync("/v1/download/check", """{"file_id":70000}""");

        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        allowed.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/{0}")]
    [InlineData("GET", "/v1/download/result/{0}")]
    [InlineData("GET", "/v1/download/events/{0}")]
    [InlineData("DELETE", "/v1/download/{0}")]
    [InlineData("POST", "/v1/download/{0}/pause")]
    [InlineData("POST", "/v1/download/{0}/resume")]
    public async Task Another_keys_job_is_404_and_left_alone(string method, string route)
    {
        var a = AccessTestApps.Client(_app, AccessTestApps.KeyA);
        var b = AccessTestApps.Client(_app, AccessTestApps.KeyB);
        var job = await a.InitiateAsync(DownloadsApi.ThreeFileJob);

        using var response = await b.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(route, job.JobId))).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("title").GetString().Should().Be("Job not found");
        (await a.StatusAsync(job.JobId)).Status.Should().NotBe(JobStatus.Cancelled).And.NotBe(JobStatus.Paused);
    }

    [Fact]
    public async Task The_creating_key_sees_and_controls_its_job()
    {
        // Files that outlast the test: the job is still running when the cancel comes.
        await using var app = AccessTestApps.Create()
            .With("Downloads:Processing:DelayMinMs", "20000")
            .With("Downloads:Processing:DelayMaxMs", "20000");
        var a = AccessTestApps.Client(app, AccessTestApps.KeyA);
        var job = await a.InitiateAsync(DownloadsApi.ThreeFileJob);

        using var cancel = await a.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await a.StatusAsync(job.JobId)).Status.Should().Be(JobStatus.Cancelled);
    }

    [Fact]
    public async Task Idempotency_keys_are_scoped_per_api_key()
    {
        var a = AccessTestApps.Client(_app, AccessTestApps.KeyA);
        var b = AccessTestApps.Client(_app, AccessTestApps.KeyB);

        var firstA = await InitiateWithIdempotencyKeyAsync(a, "order-42");
        var replayA = await InitiateWithIdempotencyKeyAsync(a, "order-42");
        var firstB = await InitiateWithIdempotencyKeyAsync(b, "order-42");

        replayA.JobId.Should().Be(firstA.JobId);
        replayA.Replayed.Should().BeTrue();
        firstB.JobId.Should().NotBe(firstA.JobId);
        firstB.Replayed.Should().BeFalse();
    }

    [Fact]
    public async Task Each_keys_webhook_secret_signs_its_jobs_deliveries()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = AccessTestApps.Create()
            .With("Downloads:Webhooks:AllowPrivateNetworks", "true")
            .With("Downloads:Webhooks:AllowedPorts", "*");
        await AccessTestApps.Client(app, AccessTestApps.KeyA).InitiateAsync(OneFile, receiver.Url("/a"));
        await AccessTestApps.Client(app, AccessTestApps.KeyB).InitiateAsync(OneFile, receiver.Url("/b"));

        var toA = (await receiver.WaitForAsync("/a")).Single();
        var toB = (await receiver.WaitForAsync("/b")).Single();

        StandardWebhookVerifiers.DotNet(toA, AccessTestApps.SecretA).Should().BeTrue();
        StandardWebhookVerifiers.DotNet(toA, AccessTestApps.SecretB).Should().BeFalse();
        StandardWebhookVerifiers.DotNet(toA, DownloadsApplication.WebhookSecret).Should().BeFalse();
        StandardWebhookVerifiers.DotNet(toB, AccessTestApps.SecretB).Should().BeTrue();
    }

    [Fact]
    public async Task Initiate_rate_limits_count_per_key_not_per_address()
    {
        await using var app = AccessTestApps.Create().With("Downloads:RateLimiting:InitiatePerMinute", "2");
        var a = AccessTestApps.Client(app, AccessTestApps.KeyA);
        var b = AccessTestApps.Client(app, AccessTestApps.KeyB);
        await a.InitiateAsync(OneFile);
        await a.InitiateAsync(OneFile);

        using var third = await a.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70000]}""");
        var fromB = await b.InitiateAsync(OneFile);

        third.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        third.Headers.RetryAfter.Should().NotBeNull();
        fromB.JobId.Should().NotBeEmpty();
    }

    [Fact]
    public async Task The_active_job_bound_counts_per_key_not_per_address()
    {
        await using var app = AccessTestApps.Create()
            .With("Downloads:RateLimiting:MaxActiveJobsPerClient", "1")
            .With("Downloads:Processing:DelayMinMs", "20000")
            .With("Downloads:Processing:DelayMaxMs", "20000");
        var a = AccessTestApps.Client(app, AccessTestApps.KeyA);
        var b = AccessTestApps.Client(app, AccessTestApps.KeyB);
        await a.InitiateAsync(OneFile);

        using var second = await a.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70000]}""");
        var fromB = await b.InitiateAsync(OneFile);

        second.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        fromB.JobId.Should().NotBeEmpty();
    }

    [Theory]
    [InlineData("Downloads:Auth:ApiKeys:a:KeySha256", "not-a-hash")]
    [InlineData("Downloads:Auth:ApiKeys:a:KeySha256", "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90")]
    [InlineData("Downloads:Auth:ApiKeys:a:WebhookSecret", null)]
    [InlineData("Downloads:Auth:ApiKeys:a:WebhookSecret", "plain-secret-without-the-whsec-prefix-0123")]
    public void A_misconfigured_key_is_refused_at_start(string setting, string? value)
    {
        using var app = AccessTestApps.Create().With(setting, value);

        var start = () => app.BaseAddress;

        start.Should().Throw<Exception>().Where(e => e.ToString().Contains(setting));
    }

    private static async Task<(Guid JobId, bool Replayed)> InitiateWithIdempotencyKeyAsync(DownloadsApi api, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = JsonContent.Create(new InitiateDownloadRequest(OneFile, null), options: DownloadsApi.Json),
        };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await api.Http.SendAsync(request).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var body = await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json);
        return (body!.JobId, response.Headers.Contains("Idempotent-Replayed"));
    }
}
