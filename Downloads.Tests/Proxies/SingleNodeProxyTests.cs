using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Tests.Proxies;

/// <summary>
/// The service behind deploy/nginx/single-node.conf.template, with nginx's idle limit lowered to 10 s: every way of
/// following a job must survive silences longer than that, because the service speaks first (pings, SSE comments,
/// long polls that answer in time).
/// </summary>
public sealed class SingleNodeProxyTests
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    // Each file is silent for 13 s (no progress tick: the interval is longer than the file), more than the proxy's
    // 10 s read timeout: only the service's keep-alives keep the connections open.
    private const int SilentFileMs = 13_000;

    private static readonly long[] TwoSilentFiles = [70000, 70007];

    [Fact]
    public async Task Every_transport_carries_a_job_through_silences_longer_than_the_proxy_read_timeout()
    {
        var transports = new HubTransportRecorder();
        await using var app = transports.AddTo(new DownloadsApplication()
            .With("Downloads:Processing:DelayMinMs", $"{SilentFileMs}")
            .With("Downloads:Processing:DelayMaxMs", $"{SilentFileMs}")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "1")
            .With("Downloads:Processing:ProgressIntervalMs", "60000")
            // Below the proxy's 10 s, as an operator sets them for a proxy with a short idle limit.
            .With("Downloads:Realtime:KeepAliveSeconds", "4")
            .With("Downloads:Realtime:LongPollSeconds", "8"));
        await using var proxy = await NginxProxy.StartAsync(NginxProxy.SingleNode, new Dictionary<string, string>
        {
            ["API_UPSTREAM"] = app.BaseAddress.Authority,
            ["PROXY_READ_TIMEOUT"] = $"{ReadTimeout.TotalSeconds}s",
        });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var api = new DownloadsApi(http);
        var timeout = TimeSpan.FromSeconds(SilentFileMs * TwoSilentFiles.Length / 1000.0 + 20);

        // One job per way of following, all at once: the test lasts one job, not four.
        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => api.InitiateAsync(TwoSilentFiles)));
        var followed = await Task.WhenAll(
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[0].JobId, JobFollowers.Negotiated, timeout),
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[1].JobId, HttpTransportType.ServerSentEvents, timeout),
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[2].JobId, HttpTransportType.LongPolling, timeout),
            JobFollowers.OverEventStreamAsync(http, jobs[3].JobId, timeout));

        foreach (var job in followed)
        {
            job.ShouldBeWholeAndCompleted();
        }

        transports.Transports.Should().BeEquivalentTo(
            [HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling],
            "negotiation through a proxy that passes the upgrade picks WebSockets");
        var status = await api.StatusAsync(jobs[0].JobId);
        (status.CompletedAt - status.StartedAt).Should().BeGreaterThan(2 * ReadTimeout, "the job outlasts the proxy's idle limit");
        followed[0].Terminal.Seq.Should().Be(status.Seq);
        jobs[0].WebsocketUrl.Should().Be($"ws://{NginxProxy.ServerName}/ws/download/{jobs[0].JobId}",
            "absolute URLs carry nginx's server_name, from X-Forwarded-Host");
    }

    [Fact]
    public async Task Without_the_upgrade_headers_negotiation_falls_back_to_server_sent_events()
    {
        var transports = new HubTransportRecorder();
        await using var app = transports.AddTo(new DownloadsApplication()
            // Files long enough that the client attaches (a failed WebSocket try, then SSE) before the job ends.
            .With("Downloads:Processing:DelayMinMs", "1000")
            .With("Downloads:Processing:DelayMaxMs", "1000")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "1"));
        await using var proxy = await NginxProxy.StartAsync(
            NginxProxy.SingleNode,
            new Dictionary<string, string> { ["API_UPSTREAM"] = app.BaseAddress.Authority },
            NginxProxy.WithoutUpgradeHeaders);
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };
        var job = await new DownloadsApi(http).InitiateAsync(DownloadsApi.ThreeFileJob);

        var followed = await JobFollowers.OverHubAsync(proxy.BaseAddress, job.JobId, JobFollowers.Negotiated, TestTimeouts.Default);

        followed.ShouldBeWholeAndCompleted();
        transports.Transports.Should().Equal([HttpTransportType.ServerSentEvents],
            "the WebSocket handshake cannot pass this proxy, and SSE is the next transport");
    }

    [Theory]
    [InlineData(true, null, true)]
    [InlineData(false, null, false)]
    [InlineData(false, "127.0.0.0/8", true)]
    public async Task Absolute_urls_follow_forwarded_headers_of_trusted_proxies_only(bool trustLoopback, string? knownNetwork, bool trusted)
    {
        await using var app = new DownloadsApplication()
            .With("ForwardedHeaders:TrustLoopback", trustLoopback ? "true" : "false")
            .With("ForwardedHeaders:KnownNetworks:0", knownNetwork);
        // TLS ends in front of this nginx (as behind Cloudflare): it tells the service https.
        await using var proxy = await NginxProxy.StartAsync(NginxProxy.SingleNode, new Dictionary<string, string>
        {
            ["API_UPSTREAM"] = app.BaseAddress.Authority,
            ["FORWARDED_PROTO"] = "https",
        });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress };

        using var response = await http.PostAsJsonAsync("/v1/download/initiate", new InitiateDownloadRequest([70000], null), DownloadsApi.Json).DefaultTimeout();
        var job = (await response.Content.ReadFromJsonAsync<InitiateDownloadResponse>(DownloadsApi.Json))!;

        // Trusted, the host is nginx's server_name (X-Forwarded-Host, no port: TLS ends in front on 443). Untrusted, the
        // service sees only what nginx sent as Host: its upstream's name.
        var host = trusted ? NginxProxy.ServerName : "downloads-api";
        var (scheme, wsScheme) = trusted ? ("https", "wss") : ("http", "ws");
        job.WebsocketUrl.Should().Be($"{wsScheme}://{host}/ws/download/{job.JobId}");
        job.HubUrl.Should().Be($"{scheme}://{host}/ws/download/{job.JobId}");
        job.StatusUrl.Should().Be($"{scheme}://{host}/v1/download/status/{job.JobId}");
        job.EventsUrl.Should().Be($"{scheme}://{host}/v1/download/events/{job.JobId}");
    }
}
