using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Downloads.Tests.Proxies;

/// <summary>
/// Through deploy/nginx/single-node.conf.template, a client's forged <c>Host</c> or <c>X-Forwarded-Host</c> changes no
/// URL of the initiate answer: nginx serves its server_name only and forwards that name, never the client's headers.
/// </summary>
public sealed class ForgedHostProxyTests
{
    private const string Evil = "evil.example";

    [Fact]
    public async Task A_forged_X_Forwarded_Host_is_replaced_by_nginxs_server_name()
    {
        // No PublicBaseUrl, loopback trusted: the URLs come from what nginx forwards.
        await using var app = new DownloadsApplication();
        await using var proxy = await NginxProxy.StartAsync(NginxProxy.SingleNode, new Dictionary<string, string> { ["API_UPSTREAM"] = app.BaseAddress.Authority });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };

        using var response = await InitiateAsync(http, forgedHost: null);

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var job = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        UrlsOf(job).Should().OnlyContain(url => new Uri(url).Host == NginxProxy.ServerName, $"nginx forwards its server_name; nginx:\n{proxy.Diagnostics}");
    }

    [Fact]
    public async Task A_forged_Host_is_refused_by_nginx_before_the_service_sees_it()
    {
        var initiated = 0;
        await using var app = new DownloadsApplication().WithServices(services => services.AddSingleton<IStartupFilter>(
            new CountingStartupFilter("/v1/download/initiate", () => Interlocked.Increment(ref initiated))));
        await using var proxy = await NginxProxy.StartAsync(NginxProxy.SingleNode, new Dictionary<string, string> { ["API_UPSTREAM"] = app.BaseAddress.Authority });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };

        using var response = await InitiateAsync(http, forgedHost: Evil);

        response.StatusCode.Should().Be(HttpStatusCode.MisdirectedRequest);
        Volatile.Read(ref initiated).Should().Be(0);
    }

    [Fact]
    public async Task Deployed_as_documented_with_a_public_base_url_every_url_is_the_public_one()
    {
        // As deploy/compose.yaml runs it: PublicBaseUrl is where clients reach nginx.
        var port = LoopbackServers.FreePort();
        var publicBase = $"http://{NginxProxy.ServerName}:{port}";
        await using var app = new DownloadsApplication().With("Downloads:PublicBaseUrl", publicBase);
        await using var proxy = await NginxProxy.StartAsync(
            NginxProxy.SingleNode, new Dictionary<string, string> { ["API_UPSTREAM"] = app.BaseAddress.Authority }, port: port);
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };

        using var response = await InitiateAsync(http, forgedHost: null);

        var job = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;
        UrlsOf(job).Where(url => url != job.WebsocketUrl).Should().OnlyContain(url => url.StartsWith(publicBase + "/", StringComparison.Ordinal));
        job.WebsocketUrl.Should().Be($"ws://{NginxProxy.ServerName}:{port}/ws/download/{job.JobId}");
    }

    private static async Task<HttpResponseMessage> InitiateAsync(HttpClient http, string? forgedHost)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/download/initiate")
        {
            Content = JsonContent.Create(new InitiateDownloadRequest([70000], null), options: DownloadsApi.Json),
        };
        if (forgedHost is not null)
        {
            request.Headers.Host = forgedHost;
        }

        request.Headers.Add("X-Forwarded-Host", Evil);
        return await http.SendAsync(request).DefaultTimeout();
    }

    private static string[] UrlsOf(InitiateDownloadResponse job) => [job.WebsocketUrl, job.HubUrl, job.StatusUrl, job.ResultUrl, job.EventsUrl];

    // Counts the requests to one path that reach the service, ahead of everything else in its pipeline.
    private sealed class CountingStartupFilter(string path, Action count) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path.StartsWithSegments(path))
                {
                    count();
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
