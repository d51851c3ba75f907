using System.Security.Cryptography;
using Downloads.Tests.Infrastructure;
using Downloads.Tests.Storage;
using Microsoft.Playwright;

namespace Downloads.Tests.Browser;

/// <summary>With s3 storage the page's download buttons lead straight to the bucket (presigned links).</summary>
[Collection(BrowserCollection.Name)]
public sealed class PresignedLinkPageTests(ChromiumFixture chromium, S3rverFixture s3)
    : IClassFixture<ChromiumFixture>, IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private IBrowserContext _context = null!;

    public async Task InitializeAsync() => _context = await chromium.NewContextAsync();

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task A_download_button_saves_the_objects_bytes_from_the_bucket_as_file_id_zip()
    {
        await using var app = s3.Server.Configure(new DownloadsApplication());
        var bytes = RandomNumberGenerator.GetBytes(40_000);
        await s3.Server.PutAsync("840001.zip", bytes);
        var page = await DownloadManagerPage.OpenAsync(_context, app.BaseAddress);
        try
        {
            var job = await page.StartAsync(840001);
            await job.ExpectStatusAsync("completed");

            var download = await page.Page.RunAndWaitForDownloadAsync(() => job.DownloadLink(840001).ClickAsync());

            download.Url.Should().StartWith(s3.Server.ServiceUrl, "the bytes come from the bucket, not through the service");
            download.SuggestedFilename.Should().Be("840001.zip");
            (await File.ReadAllBytesAsync(await download.PathAsync())).Should().Equal(bytes);
        }
        finally
        {
            // The page's hub connection would hold this test's own app open past its shutdown timeout.
            await page.Page.CloseAsync();
        }
    }
}
