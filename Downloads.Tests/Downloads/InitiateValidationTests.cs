using System.Net;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>Bad input gets a clear problem+json, never a 500 or a stack trace, and creates no job.</summary>
public sealed class InitiateValidationTests(DownloadsApplication app) : IClassFixture<DownloadsApplication>
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    private static readonly string TooMany = $"{{\"file_ids\":[{string.Join(',', Enumerable.Range(10000, 1001))}]}}";

    /// <summary>Body, content type, expected status, and the error key the answer must name (or null).</summary>
    public static TheoryData<string, string, HttpStatusCode, string?> BadRequests => new()
    {
        { "{}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":null}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":[]}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { TooMany, "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":[9999]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[70000,100000001]}", "application/json", HttpStatusCode.BadRequest, "file_ids[1]" },
        { "{\"file_ids\":[0]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[-70000]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[70000,70007,70000]}", "application/json", HttpStatusCode.BadRequest, "file_ids[2]" },
        { "{\"file_ids\":[70000.5]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[\"70000\"]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[null]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[1e40]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":[99999999999999999999999]}", "application/json", HttpStatusCode.BadRequest, "file_ids[0]" },
        { "{\"file_ids\":70000}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":\"70000\"}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":{\"a\":1}}", "application/json", HttpStatusCode.BadRequest, "file_ids" },
        { "{\"file_ids\":[70000],\"callback_url\":\"not a url\"}", "application/json", HttpStatusCode.BadRequest, "callback_url" },
        { "{\"file_ids\":[70000],\"callback_url\":\"ftp://example.com/hook\"}", "application/json", HttpStatusCode.BadRequest, "callback_url" },
        { "{\"file_ids\":[70000],\"callback_url\":\"/relative/hook\"}", "application/json", HttpStatusCode.BadRequest, "callback_url" },
        { "{\"file_ids\":[70000],\"callback_url\":\"https://user:pw@example.com/hook\"}", "application/json", HttpStatusCode.BadRequest, "callback_url" },
        { "{\"file_ids\":[70000],\"callback_url\":42}", "application/json", HttpStatusCode.BadRequest, "callback_url" },
        { "{\"file_ids\":[70000]", "application/json", HttpStatusCode.BadRequest, null },
        { "not json at all", "application/json", HttpStatusCode.BadRequest, null },
        { "", "application/json", HttpStatusCode.BadRequest, null },
        { "[70000]", "application/json", HttpStatusCode.BadRequest, null },
        { "null", "application/json", HttpStatusCode.BadRequest, null },
        { "{\"file_ids\":[70000]}", "text/plain", HttpStatusCode.UnsupportedMediaType, null },
        { "file_ids=70000", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, null },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Initiate_with_bad_input_is_a_problem(string body, string contentType, HttpStatusCode status, string? errorKey)
    {
        using var response = await _api.PostJsonAsync("/v1/download/initiate", body, contentType);

        response.StatusCode.Should().Be(status);
        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("status").GetInt32().Should().Be((int)status);
        problem.GetProperty("title").GetString().Should().NotBeNullOrEmpty();
        problem.GetProperty("request_id").GetString().Should().Be(response.Headers.GetValues("X-Request-ID").Single());
        problem.ToString().Should().NotContain("   at ", "no error carries a stack trace");
        if (errorKey is not null)
        {
            problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Contain(errorKey);
        }
    }

    [Fact]
    public async Task Initiate_with_duplicate_file_ids_is_rejected()
    {
        using var response = await _api.PostJsonAsync("/v1/download/initiate", "{\"file_ids\":[70000,70007,70000]}");

        var problem = await DownloadsApi.ProblemAsync(response);
        problem.GetProperty("errors").GetProperty("file_ids[2]")[0].GetString().Should().Contain("file_ids[0]");
    }

    [Fact]
    public async Task Initiate_reports_every_bad_file_id_at_once()
    {
        using var response = await _api.PostJsonAsync("/v1/download/initiate", "{\"file_ids\":[1,70000,2]}");

        var errors = (await DownloadsApi.ProblemAsync(response)).GetProperty("errors");
        errors.GetProperty("file_ids[0]")[0].GetString().Should().Be("must be between 10000 and 100000000");
        errors.GetProperty("file_ids[2]")[0].GetString().Should().Be("must be between 10000 and 100000000");
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("k-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-0123456789-abc")]
    public async Task Initiate_with_a_malformed_idempotency_key_is_rejected(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = new StringContent("{\"file_ids\":[70000]}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("errors").TryGetProperty("Idempotency-Key", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Initiate_with_a_body_over_the_limit_is_413()
    {
        var huge = "{\"file_ids\":[70000],\"callback_url\":\"https://example.com/" + new string('a', 70 * 1024) + "\"}";

        using var response = await _api.PostJsonAsync("/v1/download/initiate", huge);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(413);
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/not-a-uuid")]
    [InlineData("GET", "/v1/download/result/12345")]
    [InlineData("GET", "/v1/download/events/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")]
    [InlineData("DELETE", "/v1/download/3f0c")]
    [InlineData("POST", "/v1/download/not-a-uuid/pause")]
    [InlineData("POST", "/v1/download/not-a-uuid/resume")]
    public async Task A_malformed_job_id_is_400(string method, string path)
    {
        using var response = await _api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("errors").TryGetProperty("job_id", out _).Should().BeTrue();
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/{0}")]
    [InlineData("GET", "/v1/download/result/{0}")]
    [InlineData("GET", "/v1/download/events/{0}")]
    [InlineData("DELETE", "/v1/download/{0}")]
    [InlineData("POST", "/v1/download/{0}/pause")]
    [InlineData("POST", "/v1/download/{0}/resume")]
    public async Task An_unknown_job_is_404(string method, string pathFormat)
    {
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, Guid.NewGuid());

        using var response = await _api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(404);
    }

    [Theory]
    [InlineData("{}", "file_id")]
    [InlineData("{\"file_id\":5}", "file_id")]
    [InlineData("{\"file_id\":\"x\"}", "file_id")]
    public async Task Check_with_bad_input_is_400(string body, string errorKey)
    {
        using var response = await _api.PostJsonAsync("/v1/download/check", body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("errors").TryGetProperty(errorKey, out _).Should().BeTrue();
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_too()
    {
        using var response = await _api.Http.GetAsync("/v1/nothing-here").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task The_caller_request_id_is_echoed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/download/status/{Guid.NewGuid()}");
        request.Headers.Add("X-Request-ID", "caller-chosen-id-42");

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        response.Headers.GetValues("X-Request-ID").Should().Equal("caller-chosen-id-42");
        (await DownloadsApi.ProblemAsync(response)).GetProperty("request_id").GetString().Should().Be("caller-chosen-id-42");
    }

    [Fact]
    public async Task Bad_input_creates_no_job_and_leaves_the_service_working()
    {
        using var bad = await _api.PostJsonAsync("/v1/download/initiate", "{\"file_ids\":[70000");

        var job = await _api.InitiateAsync([70000]);
        var ended = await _api.WaitForEndAsync(job.JobId);

        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        ended.Status.Should().Be(Contracts.JobStatus.Completed);
    }
}
