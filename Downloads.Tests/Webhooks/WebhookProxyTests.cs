using System.Net;
using System.Net.Sockets;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Webhooks;

/// <summary>
/// <c>HTTP_PROXY</c>/<c>HTTPS_PROXY</c> in the service's environment route no webhook: a proxy would be the address the
/// SSRF guard checks at connect time, not the callback's. Run as a real process, configured as an operator's shell would.
/// </summary>
public sealed class WebhookProxyTests
{
    [Fact]
    public async Task A_delivery_reaches_the_receiver_directly_and_the_proxy_sees_no_connection()
    {
        await using var proxy = ConnectionRecorder.Start();
        await using var receiver = await WebhookReceiver.StartAsync();
        var address = $"http://127.0.0.1:{LoopbackServers.FreePort()}";
        var proxyUrl = $"http://127.0.0.1:{proxy.Port}";
        var settings = new Dictionary<string, string?>(DownloadsApplication.Defaults)
        {
            ["ASPNETCORE_URLS"] = address,
            ["Downloads:Webhooks:AllowPrivateNetworks"] = "true",
            ["Downloads:Webhooks:AllowedPorts"] = "*",
            // Both spellings: .NET reads the lower-case ones, and the upper-case ones outside CGI.
            ["HTTP_PROXY"] = proxyUrl,
            ["HTTPS_PROXY"] = proxyUrl,
            ["http_proxy"] = proxyUrl,
            ["https_proxy"] = proxyUrl,
            ["ALL_PROXY"] = proxyUrl,
            // Nothing bypasses the proxy, loopback included.
            ["NO_PROXY"] = "",
            ["no_proxy"] = "",
        };
        await using var service = ServiceProcess.Start(settings);
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        await service.WaitUntilHealthyAsync(http);
        var api = new DownloadsApi(http);

        var job = await api.InitiateAsync(WebhookTestApps.OneFile, receiver.Url("/hook"));
        var delivered = await receiver.WaitForAsync("/hook");
        var status = await api.WaitForAsync(job.JobId, s => s.Webhook?.Status == WebhookStatus.Delivered);

        delivered.Should().ContainSingle().Which.Header("webhook-id").Should().NotBeEmpty();
        status.Webhook!.LastStatusCode.Should().Be(200);
        proxy.Connections.Should().Be(0, $"the proxy should see nothing; the service wrote:\n{service.Output}");
    }

    /// <summary>A loopback TCP listener that counts the connections made to it and closes each at once.</summary>
    private sealed class ConnectionRecorder : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _accepting;
        private int _connections;

        private ConnectionRecorder(TcpListener listener)
        {
            _listener = listener;
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public static ConnectionRecorder Start()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new ConnectionRecorder(listener);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _accepting;
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
