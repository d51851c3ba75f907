using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Downloads.Contracts;
using Downloads.Jobs.Links;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>Every REST route's happy path, over real HTTP.</summary>
public sealed class RestRoutesTests(DownloadsApplication app) : IClassFixture<DownloadsApplication>
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task Initiate_answers_202_with_the_job_id_and_absolute_urls()
    {
        using var response = await _api.PostJsonAsync("/v1/download/initiate", "{\"file_ids\":[70000,70001]}");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var body = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        var id = body.JobId.ToString("D");
        var host = app.BaseAddress.Authority;
        response.Headers.Location!.OriginalString.Should().Be($"/v1/download/status/{id}");
        body.Status.Should().Be(JobStatus.Queued);
        body.TotalFiles.Should().Be(2);
        body.WebsocketUrl.Should().Be($"ws://{host}/ws/download/{id}");
        body.HubUrl.Should().Be($"http://{host}/ws/download/{id}");
        body.StatusUrl.Should().Be($"http://{host}/v1/download/status/{id}");
        body.ResultUrl.Should().Be($"http://{host}/v1/download/result/{id}");
        body.EventsUrl.Should().Be($"http://{host}/v1/download/events/{id}");
    }

    [Fact]
    public async Task Urls_follow_the_scheme_and_host_of_a_trusted_proxy()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = JsonContent.Create(new { file_ids = new[] { 70000 } }),
        };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "downloads.example.com");

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        var body = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        body.WebsocketUrl.Should().StartWith("wss://downloads.example.com/ws/download/");
        body.StatusUrl.Should().StartWith("https://downloads.example.com/v1/download/status/");
    }

    [Fact]
    public async Task Status_document_follows_the_contract()
    {
        var job = await _api.InitiateAsync(DownloadsApi.ThreeFileJob);

        var status = await _api.WaitForEndAsync(job.JobId);

        status.Status.Should().Be(JobStatus.Completed, "a job is completed when at least one file completed");
        status.Progress.Should().Be(new JobProgress(2, 1, 3, 100, null));
        status.Results.Select(r => r.FileId).Should().Equal(70000, 70007, 70001);
        status.Results[0].Sha256.Should().MatchRegex("^[0-9a-f]{64}$");
        status.Results[0].Size.Should().BePositive();
        status.Results[2].Should().Match<FileResult>(r => r.Status == FileStatus.Failed && r.ErrorCode == "not_found" && r.DownloadUrl == null);
        status.StartedAt.Should().NotBeNull();
        status.CompletedAt.Should().NotBeNull();
        status.ExpiresAt.Should().BeCloseTo(DateTimeOffset.UtcNow.AddHours(1), TimeSpan.FromMinutes(1));
        status.Webhook.Should().BeNull();
    }

    [Fact]
    public async Task Times_are_utc_with_z()
    {
        var job = await _api.InitiateAsync([70001]);

        var json = await _api.Http.GetStringAsync(job.StatusUrl).DefaultTimeout();

        json.Should().MatchRegex("\"created_at\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z\"");
    }

    [Fact]
    public async Task A_job_whose_files_all_fail_is_failed()
    {
        var job = await _api.InitiateAsync([70001, 70002]);

        var status = await _api.WaitForEndAsync(job.JobId);

        status.Status.Should().Be(JobStatus.Failed);
    }

    [Fact]
    public async Task Result_of_an_ended_job_lists_links_in_file_ids_order_and_failures()
    {
        var job = await _api.InitiateAsync([70007, 70001, 70000]);
        await _api.WaitForEndAsync(job.JobId);

        var result = await _api.Http.GetFromJsonAsync<JobResultDocument>(job.ResultUrl, DownloadsApi.Json).DefaultTimeout();

        result!.Status.Should().Be(JobStatus.Completed);
        result.Files.Select(f => f.FileId).Should().Equal(70007, 70000);
        result.DownloadUrls.Should().Equal(result.Files.Select(f => f.DownloadUrl));
        result.Failed.Should().ContainSingle().Which.Should().Be(new FailedFile(70001, "not_found", "File 70001 was not found in storage."));
        result.ExpiresAt.Should().NotBeNull();
    }

    [Fact]
    public async Task Cancel_of_a_completed_job_is_409()
    {
        var job = await _api.InitiateAsync([70000]);
        await _api.WaitForEndAsync(job.JobId);

        using var response = await _api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Pause_of_an_ended_job_is_409()
    {
        var job = await _api.InitiateAsync([70001]);
        await _api.WaitForEndAsync(job.JobId);

        using var response = await _api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData(70000, true)]
    [InlineData(70001, false)]
    public async Task Check_says_whether_a_file_exists(long fileId, bool available)
    {
        using var response = await _api.PostJsonAsync("/v1/download/check", $"{{\"file_id\":{fileId}}}");

        var body = (await response.Content.ReadFromJsonAsync<FileCheckResponse>(DownloadsApi.Json))!;
        body.FileId.Should().Be(fileId);
        body.Available.Should().Be(available);
        (body.Size is not null).Should().Be(available);
    }

    [Fact]
    public async Task Health_is_200()
    {
        using var response = await _api.Http.GetAsync("/health").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Readiness_reports_each_dependency()
    {
        var json = await _api.Http.GetStringAsync("/health/ready").DefaultTimeout();

        json.Should().Contain("\"storage\"").And.Contain("\"hangfire\"");
    }
}

/// <summary>The signed links: bytes, ranges, validators, forged and expired links.</summary>
public sealed class FileDownloadTests(DownloadsApplication app) : IClassFixture<DownloadsApplication>
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task Downloaded_bytes_match_the_sha256_of_the_result()
    {
        var file = await CompletedFileAsync();

        using var response = await _api.Http.GetAsync(file.DownloadUrl).DefaultTimeout();
        var bytes = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        bytes.LongLength.Should().Be(file.Size);
        Convert.ToHexStringLower(SHA256.HashData(bytes)).Should().Be(file.Sha256);
        response.Content.Headers.ContentDisposition!.DispositionType.Should().Be("attachment");
        response.Headers.ETag.Should().NotBeNull();
        response.Headers.AcceptRanges.Should().Contain("bytes");
    }

    [Fact]
    public async Task A_range_request_gets_206_with_those_bytes()
    {
        var file = await CompletedFileAsync();
        var whole = await _api.Http.GetByteArrayAsync(file.DownloadUrl).DefaultTimeout();
        using var request = new HttpRequestMessage(HttpMethod.Get, file.DownloadUrl);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 1123);

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(whole[100..1124]);
    }

    [Fact]
    public async Task Head_gives_the_headers_without_the_body()
    {
        var file = await CompletedFileAsync();

        using var response = await _api.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, file.DownloadUrl)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(file.Size);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_matching_etag_gets_304()
    {
        var file = await CompletedFileAsync();
        using var first = await _api.Http.GetAsync(file.DownloadUrl, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        using var request = new HttpRequestMessage(HttpMethod.Get, file.DownloadUrl);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var response = await _api.Http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotModified);
    }

    [Theory]
    [InlineData("signature=", "signature=00")]
    [InlineData("expires=", "expires=9")]
    public async Task A_tampered_link_is_403(string part, string replacement)
    {
        var file = await CompletedFileAsync();

        using var response = await _api.Http.GetAsync(file.DownloadUrl!.Replace(part, replacement, StringComparison.Ordinal)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(403);
    }

    [Fact]
    public async Task A_link_for_another_file_is_403()
    {
        var file = await CompletedFileAsync();

        using var response = await _api.Http.GetAsync(file.DownloadUrl!.Replace("/v1/files/70000", "/v1/files/70007", StringComparison.Ordinal)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_expired_link_is_410()
    {
        var signer = app.Services.GetRequiredService<DownloadLinkSigner>();
        var expired = signer.CreateUrl(app.BaseAddress.ToString(), 70000, DateTimeOffset.UtcNow.AddSeconds(-1));

        using var response = await _api.Http.GetAsync(expired).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Gone);
    }

    private async Task<FileResult> CompletedFileAsync()
    {
        var job = await _api.InitiateAsync([70000]);
        return (await _api.WaitForEndAsync(job.JobId)).Results[0];
    }
}
