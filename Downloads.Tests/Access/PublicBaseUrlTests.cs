using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Access;

/// <summary>A forged <c>Host</c> or <c>X-Forwarded-Host</c> changes no URL the service writes.</summary>
public sealed class PublicBaseUrlTests
{
    private const string PublicBase = "https://downloads.example/api";

    [Fact]
    public async Task With_a_public_base_url_every_absolute_url_uses_it_whatever_the_headers_say()
    {
        await using var app = new DownloadsApplication().With("Downloads:PublicBaseUrl", PublicBase + "/");
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await InitiateForgedAsync(api);
        var ended = await api.WaitForEndAsync(job.JobId);

        new[] { job.HubUrl, job.StatusUrl, job.ResultUrl, job.EventsUrl }.Should().OnlyContain(u => u.StartsWith(PublicBase + "/", StringComparison.Ordinal));
        job.WebsocketUrl.Should().StartWith("wss://downloads.example/api/ws/download/");
        ended.Results.Where(r => r.DownloadUrl is not null).Should().NotBeEmpty()
            .And.OnlyContain(r => r.DownloadUrl!.StartsWith(PublicBase + "/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_it_forwarded_headers_from_an_untrusted_peer_change_no_url()
    {
        await using var app = new DownloadsApplication().With("ForwardedHeaders:TrustLoopback", "false");
        var api = new DownloadsApi(app.CreateApiClient());

        var job = await InitiateForgedAsync(api, forgeHost: false);

        new[] { job.WebsocketUrl, job.HubUrl, job.StatusUrl, job.ResultUrl, job.EventsUrl }
            .Should().OnlyContain(u => u.Contains(app.BaseAddress.Authority, StringComparison.Ordinal) && !u.Contains("evil", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("downloads.example")]
    [InlineData("ftp://downloads.example")]
    [InlineData("https://downloads.example/?x=1")]
    public void A_public_base_url_that_is_no_base_url_is_refused_at_start(string value)
    {
        using var app = new DownloadsApplication().With("Downloads:PublicBaseUrl", value);

        var start = () => app.BaseAddress;

        start.Should().Throw<Exception>().Where(e => e.ToString().Contains("Downloads:PublicBaseUrl"));
    }

    private static async Task<InitiateDownloadResponse> InitiateForgedAsync(DownloadsApi api, bool forgeHost = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = JsonContent.Create(new InitiateDownloadRequest([70000, 70007], null), options: DownloadsApi.Json),
        };
        if (forgeHost)
        {
            request.Headers.Host = "evil.example";
        }

        request.Headers.Add("X-Forwarded-Host", "evil-forwarded.example");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await api.Http.SendAsync(request).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
    }
}
