using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Links;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Archives;

/// <summary><c>archive_url</c>: one signed, expiring ZIP of a job's completed files, over real HTTP.</summary>
public sealed class ArchiveTests(DownloadsApplication app) : IClassFixture<DownloadsApplication>
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task An_ended_job_with_a_completed_file_has_an_archive_url_in_status_and_result()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);

        var result = await _api.Http.GetFromJsonAsync<JobResultDocument>($"/v1/download/result/{ended.JobId}", DownloadsApi.Json).DefaultTimeout();

        ended.ArchiveUrl.Should().StartWith($"{app.BaseAddress.GetLeftPart(UriPartial.Authority)}/v1/archives/{ended.JobId}?expires=");
        result!.ArchiveUrl.Should().Be(ended.ArchiveUrl);
    }

    [Fact]
    public async Task A_job_without_a_completed_file_has_no_archive_url()
    {
        var ended = await EndedJobAsync([70001]);

        ended.ArchiveUrl.Should().BeNull();
    }

    [Fact]
    public async Task A_running_job_has_no_archive_url_yet()
    {
        // Files of ~2 s each, one at a time: the first completes seconds before the job can end.
        await using var slow = new SlowJobsApplication();
        var api = new DownloadsApi(slow.CreateApiClient());
        var job = await api.InitiateAsync([70000, 70007, 70014]);

        var status = await api.WaitForAsync(job.JobId, s => s.Progress.Completed > 0);

        status.ArchiveUrl.Should().BeNull(status.Status.ToString());
    }

    [Fact]
    public async Task The_archive_unzips_to_exactly_the_completed_files_with_an_exact_content_length()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);

        using var response = await _api.Http.GetAsync(ended.ArchiveUrl).DefaultTimeout();
        var bytes = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/zip");
        response.Content.Headers.ContentDisposition!.FileName.Should().Be($"{ended.JobId}.zip");
        response.Content.Headers.ContentLength.Should().Be(bytes.LongLength);
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var completed = ended.Results.Where(r => r.Status == FileStatus.Completed).ToList();
        zip.Entries.Select(e => e.FullName).Should().Equal(completed.Select(r => $"{r.FileId}.zip"));
        zip.Entries.Select(Sha256).Should().Equal(completed.Select(r => r.Sha256));
        zip.Entries.Should().OnlyContain(e => e.CompressedLength == e.Length, "entries are stored, not recompressed");
    }

    [Fact]
    public async Task Head_answers_the_length_without_a_body()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);
        using var get = await _api.Http.GetAsync(ended.ArchiveUrl).DefaultTimeout();

        using var head = await _api.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, ended.ArchiveUrl)).DefaultTimeout();

        head.StatusCode.Should().Be(HttpStatusCode.OK);
        head.Content.Headers.ContentLength.Should().Be(get.Content.Headers.ContentLength);
        (await head.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_changed_signature_is_403()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);
        var url = ended.ArchiveUrl!;
        var forged = url[..^1] + (url[^1] == '0' ? '1' : '0');

        using var response = await _api.Http.GetAsync(forged).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task A_file_link_signature_does_not_open_the_archive()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);
        var fileQuery = new Uri(ended.Results[0].DownloadUrl!).Query;

        using var response = await _api.Http.GetAsync($"/v1/archives/{ended.JobId}{fileQuery}").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_expired_link_is_410()
    {
        var ended = await EndedJobAsync(DownloadsApi.ThreeFileJob);
        var job = await app.Services.GetRequiredService<JobLedger>().GetAsync(ended.JobId, CancellationToken.None);
        var expired = app.Services.GetRequiredService<DownloadLinkSigner>().ArchiveUrlOf(job! with { Header = job.Header with { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) } });

        using var response = await _api.Http.GetAsync(expired).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Gone);
    }

    private async Task<JobStatusDocument> EndedJobAsync(long[] fileIds) =>
        await _api.WaitForEndAsync((await _api.InitiateAsync(fileIds)).JobId);

    private static string Sha256(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
