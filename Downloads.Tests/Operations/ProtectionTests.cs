using System.Net;
using System.Text.Json;
using Downloads.Api.Protection;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Operations;

/// <summary>Rate limits, body size, active jobs per client, CORS and security headers.</summary>
public sealed class ProtectionTests
{
    private const string OneFile = """{"file_ids":[70000]}""";

    [Fact]
    public async Task Initiate_beyond_the_per_minute_limit_is_a_429_with_retry_after()
    {
        await using var app = new DownloadsApplication().With("Downloads:RateLimiting:InitiatePerMinute", "2");
        var api = new DownloadsApi(app.CreateApiClient());

        for (var i = 0; i < 2; i++)
        {
            using var accepted = await api.PostJsonAsync("/v1/download/initiate", OneFile);
            accepted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        using var limited = await api.PostJsonAsync("/v1/download/initiate", OneFile);

        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter!.Delta.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromMinutes(1));
        var problem = await DownloadsApi.ProblemAsync(limited);
        problem.GetProperty("status").GetInt32().Should().Be(429);
        problem.GetProperty("request_id").GetString().Should().Be(limited.Headers.GetValues("X-Request-ID").Single());

        using var status = await api.Http.GetAsync($"/v1/download/status/{Guid.NewGuid()}").DefaultTimeout();
        status.StatusCode.Should().Be(HttpStatusCode.NotFound, "only initiate is rate limited");
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_413_problem()
    {
        await using var app = new DownloadsApplication();
        var api = new DownloadsApi(app.CreateApiClient());
        var huge = $$"""{"file_ids":[70000],"callback_url":"https://client.example/{{new string('a', 70 * 1024)}}"}""";

        using var response = await api.PostJsonAsync("/v1/download/initiate", huge);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("status").GetInt32().Should().Be(413);
        problem.TryGetProperty("request_id", out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_client_at_its_active_job_limit_gets_a_429_until_one_ends()
    {
        await using var app = new DownloadsApplication()
            .With("Downloads:RateLimiting:MaxActiveJobsPerClient", "1")
            .With("Downloads:Processing:DelayMinMs", "20000")
            .With("Downloads:Processing:DelayMaxMs", "20000");
        var api = new DownloadsApi(app.CreateApiClient());
        var first = await api.InitiateAsync([70000]);

        using var refused = await api.PostJsonAsync("/v1/download/initiate", OneFile);
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(ActiveJobLimitFilter.RetryAfterSeconds));
        (await DownloadsApi.ProblemAsync(refused)).GetProperty("title").GetString().Should().Be("Too many active jobs");

        using var cancel = await api.Http.DeleteAsync($"/v1/download/{first.JobId}").DefaultTimeout();
        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var accepted = await api.PostJsonAsync("/v1/download/initiate", OneFile);
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted, "the cancelled job no longer counts");
    }

    [Fact]
    public async Task A_client_at_its_active_file_limit_gets_a_429_for_one_more_file()
    {
        await using var app = new DownloadsApplication()
            .With("Downloads:RateLimiting:MaxActiveFilesPerClient", "2")
            .With("Downloads:Processing:DelayMinMs", "20000")
            .With("Downloads:Processing:DelayMaxMs", "20000");
        var api = new DownloadsApi(app.CreateApiClient());
        await api.InitiateAsync([70000, 70007]);

        using var refused = await api.PostJsonAsync("/v1/download/initiate", OneFile);

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(ActiveJobLimitFilter.RetryAfterSeconds));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/health")]
    [InlineData("/v1/download/status/not-a-job")]
    [InlineData("/hangfire")]
    public async Task Every_response_carries_security_headers(string path)
    {
        await using var app = new DownloadsApplication();
        using var response = await app.CreateApiClient().GetAsync(path).DefaultTimeout();

        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        response.Headers.GetValues("Referrer-Policy").Should().Equal("no-referrer");
        response.Headers.GetValues("X-Frame-Options").Should().Equal(path == "/hangfire" ? "SAMEORIGIN" : "DENY");
        if (path != "/hangfire")
        {
            response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'self'").And.Contain("frame-ancestors 'none'");
        }
    }

    [Fact]
    public async Task Cors_allows_only_the_configured_origins()
    {
        await using var app = new DownloadsApplication().With("Downloads:Cors:AllowedOrigins:0", "https://app.example");
        var http = app.CreateApiClient();

        using var allowed = await PreflightAsync(http, "https://app.example");
        allowed.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("https://app.example");

        using var other = await PreflightAsync(http, "https://evil.example");
        other.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    private static Task<HttpResponseMessage> PreflightAsync(HttpClient http, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/download/initiate");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return http.SendAsync(request).DefaultTimeout();
    }
}
