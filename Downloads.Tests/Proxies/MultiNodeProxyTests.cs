using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Downloads.Tests.Proxies;

/// <summary>
/// The reference topology of deploy/compose.yaml, as hosts on loopback: nginx with
/// deploy/nginx/multi-node.conf.template in front of two API nodes, a worker apart, all on one Redis.
/// </summary>
public sealed class MultiNodeProxyTests
{
    [Fact]
    public async Task Every_transport_follows_a_job_through_the_proxy_in_front_of_two_api_nodes()
    {
        var transports = new HubTransportRecorder();
        await using var deployment = new RedisDeployment(await RedisServer.Shared)
            // Files long enough that every follower attaches before the job ends.
            .With("Downloads:Processing:DelayMinMs", "1000")
            .With("Downloads:Processing:DelayMaxMs", "1000")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "1");
        var api1 = deployment.Node("api", app => transports.AddTo(app));
        var api2 = deployment.Node("api", app => transports.AddTo(app));
        deployment.Node("worker");
        // TLS ends in front of this nginx, as behind Cloudflare or a cloud load balancer.
        await using var proxy = await NginxProxy.StartAsync(NginxProxy.MultiNode, new Dictionary<string, string>
        {
            ["API_NODE_1"] = api1.BaseAddress.Authority,
            ["API_NODE_2"] = api2.BaseAddress.Authority,
            ["FORWARDED_PROTO"] = "https",
        });
        using var http = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var api = new DownloadsApi(http);

        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => api.InitiateAsync([70000, 70007, 70014])));
        var followed = await Task.WhenAll(
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[0].JobId, JobFollowers.Negotiated, TestTimeouts.Default),
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[1].JobId, HttpTransportType.ServerSentEvents, TestTimeouts.Default),
            JobFollowers.OverHubAsync(proxy.BaseAddress, jobs[2].JobId, HttpTransportType.LongPolling, TestTimeouts.Default),
            JobFollowers.OverEventStreamAsync(http, jobs[3].JobId, TestTimeouts.Default));

        foreach (var job in followed)
        {
            job.ShouldBeWholeAndCompleted();
        }

        transports.Transports.Should().BeEquivalentTo(
            [HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling]);
        var id = jobs[0].JobId;
        // nginx's server_name, from X-Forwarded-Host: clients reach the service through the proxy, over TLS on 443.
        var host = NginxProxy.ServerName;
        jobs[0].WebsocketUrl.Should().Be($"wss://{host}/ws/download/{id}", "clients reach the service through the proxy, over TLS");
        jobs[0].HubUrl.Should().Be($"https://{host}/ws/download/{id}");
        jobs[0].StatusUrl.Should().Be($"https://{host}/v1/download/status/{id}");
        jobs[0].EventsUrl.Should().Be($"https://{host}/v1/download/events/{id}");
    }

    [Fact]
    public async Task Without_affinity_connections_fail_when_a_request_reaches_the_other_node()
    {
        await using var deployment = new RedisDeployment(await RedisServer.Shared);
        var api1 = deployment.Node("api");
        var api2 = deployment.Node("api");
        await using var proxy = await NginxProxy.StartAsync(
            NginxProxy.MultiNode,
            new Dictionary<string, string> { ["API_NODE_1"] = api1.BaseAddress.Authority, ["API_NODE_2"] = api2.BaseAddress.Authority },
            NginxProxy.WithoutAffinity);

        // Round robin sends the requests after negotiate to the other node now and then, which knows no such connection.
        var failures = new List<string>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await using var connection = JobEventRecorder.Build(new Uri(proxy.BaseAddress, "/ws/download"), HttpTransportType.LongPolling);
            try
            {
                await connection.StartAsync().DefaultTimeout();
                await connection.InvokeAsync("Unsubscribe", Guid.NewGuid().ToString()).DefaultTimeout();
            }
            catch (Exception e) when (e is AggregateException or HttpRequestException or InvalidOperationException or IOException)
            {
                failures.Add(e.ToString());
            }
        }

        failures.Should().Contain(f => f.Contains("404"), "this is why deploy/nginx/multi-node.conf.template hashes the client address");
    }
}
