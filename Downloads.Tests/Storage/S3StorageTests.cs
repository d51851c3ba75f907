using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Downloads.Contracts;
using Downloads.Jobs.Links;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Storage;

/// <summary>One s3rver for a test class; each test uses objects of its own ids.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public S3rverServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3rverServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// <c>Downloads:Storage:Kind=s3</c> against a real S3-compatible server (s3rver) on loopback, with presigned links
/// (the default with s3). s3rver checks the expiry of presigned links but not their signature (see <see cref="S3rverServer"/>).
/// </summary>
public sealed class S3StorageTests : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Prefix = "exports/";
    private readonly S3rverServer _s3;
    private readonly DownloadsApplication _app;
    private DownloadsApi _api = null!;

    public S3StorageTests(S3rverFixture fixture)
    {
        _s3 = fixture.Server;
        _app = _s3.Configure(new DownloadsApplication(), Prefix);
    }

    public Task InitializeAsync()
    {
        _api = new DownloadsApi(_app.CreateApiClient());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_job_completes_with_the_objects_sizes_and_sha256()
    {
        var objects = await PutAsync((810001, 1000), (810002, 300_000));

        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810001, 810002])).JobId);

        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Select(r => (r.FileId, r.Size, r.Sha256)).Should().Equal(
            objects.Select(o => (o.Key, (long?)o.Value.Length, (string?)Convert.ToHexStringLower(SHA256.HashData(o.Value)))));
    }

    [Fact]
    public async Task A_presigned_link_downloads_the_exact_bytes_from_the_bucket_as_file_id_zip()
    {
        var objects = await PutAsync((810011, 50_000));
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810011])).JobId);
        var link = ended.Results[0].DownloadUrl!;

        using var response = await new HttpClient().GetAsync(link).DefaultTimeout();

        link.Should().StartWith($"{_s3.ServiceUrl}/{S3rverServer.Bucket}/{Prefix}810011.zip?").And.Contain("X-Amz-Signature=");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(objects[810011]);
        response.Content.Headers.ContentDisposition!.DispositionType.Should().Be("attachment");
        response.Content.Headers.ContentDisposition.FileName!.Trim('"').Should().Be("810011.zip");
    }

    [Fact]
    public async Task An_expired_presigned_link_is_refused_by_the_bucket()
    {
        await PutAsync((810021, 100));
        var link = _app.Services.GetRequiredService<IFileLinks>().CreateUrl("unused", 810021, DateTimeOffset.UtcNow.AddSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        using var response = await new HttpClient().GetAsync(link).DefaultTimeout();

        // s3rver refuses an expired link; it does not check the signature of one still valid, so a forged one cannot be tested here.
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadAsStringAsync()).Should().Contain("expired");
    }

    [Fact]
    public async Task A_missing_object_fails_not_found_at_once()
    {
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810031])).JobId);

        ended.Results[0].Should().Match<FileResult>(r => r.Status == FileStatus.Failed && r.ErrorCode == "not_found" && r.Attempts == 1);
    }

    [Fact]
    public async Task The_archive_streams_the_objects_from_the_bucket()
    {
        var objects = await PutAsync((810041, 70_000), (810042, 3));
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810041, 810049, 810042])).JobId);

        using var response = await _api.Http.GetAsync(ended.ArchiveUrl).DefaultTimeout();
        var bytes = await response.Content.ReadAsByteArrayAsync();

        response.Content.Headers.ContentLength.Should().Be(bytes.LongLength);
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        zip.Entries.Select(e => e.FullName).Should().Equal("810041.zip", "810042.zip");
        zip.Entries.Select(Read).Should().BeEquivalentTo([objects[810041], objects[810042]], o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task An_object_gone_after_the_job_cuts_the_archive_short_instead_of_sending_other_bytes()
    {
        await PutAsync((810061, 100_000), (810062, 100));
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810061, 810062])).JobId);
        await _s3.DeleteAsync($"{Prefix}810062.zip");

        var read = () => _api.Http.GetByteArrayAsync(ended.ArchiveUrl).DefaultTimeout();

        await read.Should().ThrowAsync<HttpRequestException>("the promised Content-Length cannot be met");
    }

    [Fact]
    public async Task Retry_of_a_job_whose_objects_were_missing_fetches_exactly_those_once_they_are_there()
    {
        await PutAsync((810051, 10));
        var ended = await _api.WaitForEndAsync((await _api.InitiateAsync([810051, 810052, 810053])).JobId);
        await PutAsync((810052, 20), (810053, 30));

        using var response = await _api.PostJsonAsync($"/v1/download/{ended.JobId}/retry", "{}");
        var retry = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        var retried = await _api.WaitForEndAsync(retry.JobId);

        retried.Results.Select(r => (r.FileId, r.Status, r.Size)).Should().Equal(
            (810052L, FileStatus.Completed, (long?)20), (810053L, FileStatus.Completed, (long?)30));
    }

    private async Task<Dictionary<long, byte[]>> PutAsync(params (long FileId, int Size)[] files)
    {
        var objects = new Dictionary<long, byte[]>();
        foreach (var (fileId, size) in files)
        {
            objects[fileId] = RandomNumberGenerator.GetBytes(size);
            await _s3.PutAsync($"{Prefix}{fileId}.zip", objects[fileId]);
        }

        return objects;
    }

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary><c>Downloads:Links:Mode=proxy</c> with s3: links point at the service, which streams (ranges too) from the bucket.</summary>
public sealed class S3ProxyLinkTests(S3rverFixture fixture) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task A_proxied_link_streams_the_object_and_its_ranges()
    {
        await using var app = fixture.Server.Configure(new DownloadsApplication()).With("Downloads:Links:Mode", "proxy");
        var api = new DownloadsApi(app.CreateApiClient());
        var bytes = RandomNumberGenerator.GetBytes(200_000);
        await fixture.Server.PutAsync("820001.zip", bytes);
        var ended = await api.WaitForEndAsync((await api.InitiateAsync([820001])).JobId);
        var link = ended.Results[0].DownloadUrl!;

        var whole = await api.Http.GetByteArrayAsync(link).DefaultTimeout();
        using var ranged = new HttpRequestMessage(HttpMethod.Get, link) { Headers = { Range = new RangeHeaderValue(150_000, 150_099) } };
        using var part = await api.Http.SendAsync(ranged).DefaultTimeout();

        link.Should().StartWith($"{app.BaseAddress.GetLeftPart(UriPartial.Authority)}/v1/files/820001?");
        whole.Should().Equal(bytes);
        part.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        (await part.Content.ReadAsByteArrayAsync()).Should().Equal(bytes[150_000..150_100]);
    }
}

/// <summary>Faults of the bucket: its server gone mid-job, and credentials it refuses.</summary>
public sealed class S3FaultTests
{
    [Fact]
    public async Task The_server_stopped_mid_job_gives_retried_attempts_then_storage_unavailable()
    {
        await using var s3 = await S3rverServer.StartAsync();
        await using var app = s3.Configure(new DownloadsApplication())
            .With("Downloads:Processing:DelayMinMs", "1500")
            .With("Downloads:Processing:DelayMaxMs", "1500");
        var api = new DownloadsApi(app.CreateApiClient());
        await s3.PutAsync("830001.zip", RandomNumberGenerator.GetBytes(1000));
        var job = await api.InitiateAsync([830001]);
        await api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);

        await s3.StopAsync();
        var ended = await api.WaitForEndAsync(job.JobId);

        ended.Results[0].Should().Match<FileResult>(r =>
            r.Status == FileStatus.Failed && r.ErrorCode == "storage_unavailable" && r.Attempts == 3);
    }

    [Fact]
    public async Task Refused_credentials_fail_the_file_at_once_and_show_in_readiness()
    {
        await using var s3 = await S3rverServer.StartAsync();
        await using var app = s3.Configure(new DownloadsApplication())
            .With("Downloads:Storage:S3:AccessKey", "NOT-A-KEY")
            .With("Downloads:Storage:S3:SecretKey", "NOT-A-SECRET");
        var api = new DownloadsApi(app.CreateApiClient());
        await s3.PutAsync("830011.zip", RandomNumberGenerator.GetBytes(1000));

        var ended = await api.WaitForEndAsync((await api.InitiateAsync([830011])).JobId);
        using var ready = await api.Http.GetAsync("/health/ready").DefaultTimeout();

        ended.Results[0].Should().Match<FileResult>(r =>
            r.Status == FileStatus.Failed && r.ErrorCode == "storage_access_denied" && r.Attempts == 1);
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.Content.ReadAsStringAsync()).Should().Contain("storage_access_denied");
    }
}
