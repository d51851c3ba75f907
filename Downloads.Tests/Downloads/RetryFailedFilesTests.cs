using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary><c>POST /v1/download/{job_id}/retry</c>: a new job of an ended job's failed files.</summary>
public sealed class RetryFailedFilesTests(RetryFailedFilesTests.RetryApplication app) : IClassFixture<RetryFailedFilesTests.RetryApplication>
{
    // Synthetic storage: a file exists when its id is a multiple of 7, so 70001 and 70002 fail not_found.
    private static readonly long[] TwoOfFourFail = [70001, 70000, 70002, 70007];

    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task Retry_without_a_body_starts_a_job_of_exactly_the_failed_files()
    {
        var ended = await EndedJobAsync(TwoOfFourFail);

        using var response = await _api.Http.PostAsync($"/v1/download/{ended.JobId}/retry", content: null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var retry = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        retry.JobId.Should().NotBe(ended.JobId);
        retry.RetryOf.Should().Be(ended.JobId);
        retry.TotalFiles.Should().Be(2);
        retry.StatusUrl.Should().EndWith($"/v1/download/status/{retry.JobId}");
        response.Headers.Location!.OriginalString.Should().Be($"/v1/download/status/{retry.JobId}");
        var status = await _api.WaitForEndAsync(retry.JobId);
        status.Results.Select(r => r.FileId).Should().Equal(70001, 70002);
        status.RetryOf.Should().Be(ended.JobId);
    }

    [Fact]
    public async Task Retry_with_file_ids_starts_a_job_of_those_files_only()
    {
        var ended = await EndedJobAsync(TwoOfFourFail);

        var retry = await RetryAsync(ended.JobId, "{\"file_ids\":[70002]}");

        var status = await _api.WaitForEndAsync(retry.JobId);
        status.Results.Select(r => r.FileId).Should().Equal(70002);
    }

    [Fact]
    public async Task The_retried_job_stays_as_it_was()
    {
        var ended = await EndedJobAsync(TwoOfFourFail);

        var retry = await RetryAsync(ended.JobId, "{}");
        await _api.WaitForEndAsync(retry.JobId);

        var after = await _api.StatusAsync(ended.JobId);
        after.Should().BeEquivalentTo(ended);
        after.RetryOf.Should().BeNull();
    }

    [Fact]
    public async Task The_retry_job_inherits_the_callback_url()
    {
        var first = await _api.InitiateAsync([70001], callbackUrl: "http://127.0.0.1:9/hook");
        await _api.WaitForEndAsync(first.JobId);

        var retry = await RetryAsync(first.JobId, "{}");

        (await _api.StatusAsync(retry.JobId)).Webhook.Should().NotBeNull("a job without a callback_url has no webhook state");
    }

    [Fact]
    public async Task The_result_document_names_the_retried_job()
    {
        var ended = await EndedJobAsync(TwoOfFourFail);
        var retry = await RetryAsync(ended.JobId, "{}");
        await _api.WaitForEndAsync(retry.JobId);

        var result = await _api.Http.GetFromJsonAsync<JobResultDocument>(retry.ResultUrl, DownloadsApi.Json).DefaultTimeout();

        result!.RetryOf.Should().Be(ended.JobId);
    }

    [Fact]
    public async Task A_job_that_has_not_ended_answers_409()
    {
        // Files of ~2 s each, one at a time: the job cannot end before the retry is asked for.
        await using var slow = new SlowJobsApplication();
        var api = new DownloadsApi(slow.CreateApiClient());
        var running = await api.InitiateAsync([70000, 70007, 70014]);

        using var response = await api.PostJsonAsync($"/v1/download/{running.JobId}/retry", "{}");

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("detail").GetString().Should().Contain("not ended");
    }

    [Fact]
    public async Task A_job_without_failed_files_answers_409()
    {
        var ended = await EndedJobAsync([70000]);

        using var response = await _api.PostJsonAsync($"/v1/download/{ended.JobId}/retry", "{}");

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("detail").GetString().Should().Contain("no failed file");
    }

    [Fact]
    public async Task Listing_a_file_that_did_not_fail_answers_400_naming_it()
    {
        var ended = await EndedJobAsync(TwoOfFourFail);

        using var response = await _api.PostJsonAsync($"/v1/download/{ended.JobId}/retry", "{\"file_ids\":[70001,70000,99999]}");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await DownloadsApi.ProblemAsync(response)).GetProperty("errors");
        errors.EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo("file_ids[1]", "file_ids[2]");
    }

    [Fact]
    public async Task An_unknown_job_answers_404()
    {
        using var response = await _api.PostJsonAsync($"/v1/download/{Guid.NewGuid()}/retry", "{}");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private async Task<JobStatusDocument> EndedJobAsync(long[] fileIds) =>
        await _api.WaitForEndAsync((await _api.InitiateAsync(fileIds)).JobId);

    private async Task<InitiateDownloadResponse> RetryAsync(Guid jobId, string body)
    {
        using var response = await _api.PostJsonAsync($"/v1/download/{jobId}/retry", body);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
    }

    public sealed class RetryApplication : DownloadsApplication
    {
        // Callbacks go to the discard port of loopback: nothing answers, and nothing needs to.
        public RetryApplication()
        {
            With("Downloads:Webhooks:AllowPrivateNetworks", "true");
            With("Downloads:Webhooks:AllowedPorts", "9");
        }
    }
}

/// <summary>Redis mode: <c>retry_of</c> is stored with the job, and the archive reads the job from Redis.</summary>
public sealed class RetryFailedFilesInRedisTests(RedisDownloadsApplication app) : IClassFixture<RedisDownloadsApplication>
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task A_retry_job_keeps_retry_of_and_an_archive_of_what_completed()
    {
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([70001, 70000])).JobId);
        using var response = await _api.PostJsonAsync($"/v1/download/{ended.JobId}/retry", "{}");
        var retry = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;

        var status = await _api.WaitForEndAsync(retry.JobId);
        using var archive = await _api.Http.GetAsync(ended.ArchiveUrl).DefaultTimeout();

        status.RetryOf.Should().Be(ended.JobId);
        archive.StatusCode.Should().Be(HttpStatusCode.OK);
        archive.Content.Headers.ContentLength.Should().Be((await archive.Content.ReadAsByteArrayAsync()).LongLength);
    }
}
