using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Storage;

/// <summary>s3 settings checked at start, and what a bucket's checksum says about a file's SHA-256.</summary>
public sealed class S3ConfigurationTests
{
    [Theory]
    [InlineData("Downloads:Storage:Kind", "s3", "Downloads:Storage:S3:Bucket is required when Kind is s3")]
    [InlineData("Downloads:Links:Mode", "presigned", "Downloads:Links:Mode=presigned needs Downloads:Storage:Kind=s3")]
    public async Task A_storage_setting_that_cannot_work_is_refused_at_start(string key, string value, string reason)
    {
        await using var app = new DownloadsApplication().With(key, value);

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain(reason);
    }

    [Fact]
    public async Task An_access_key_without_its_secret_is_refused_at_start()
    {
        await using var app = new DownloadsApplication()
            .With("Downloads:Storage:Kind", "s3").With("Downloads:Storage:S3:Bucket", "b").With("Downloads:Storage:S3:AccessKey", "AKIA");

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain("AccessKey and SecretKey go together");
    }

    [Fact]
    public void A_whole_object_sha256_checksum_is_the_files_sha256()
    {
        var sha256 = System.Security.Cryptography.SHA256.HashData("abc"u8);

        S3FileStorage.Sha256OfWholeObject(Convert.ToBase64String(sha256), "FULL_OBJECT").Should().Be(Convert.ToHexStringLower(sha256));
    }

    [Theory]
    [InlineData("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-3", null)]
    [InlineData("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "COMPOSITE")]
    [InlineData(null, null)]
    [InlineData("not base64", null)]
    public void A_composite_or_absent_checksum_says_nothing(string? checksum, string? type) =>
        S3FileStorage.Sha256OfWholeObject(checksum, type).Should().BeNull();
}
