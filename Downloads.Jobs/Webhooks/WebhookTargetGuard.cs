using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Downloads.Jobs.Webhooks;

/// <summary>A callback target that resolves to an address webhooks may not reach.</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

/// <summary>
/// The SSRF guard of webhooks: a callback host must resolve to public addresses only, unless
/// <see cref="WebhookOptions.AllowPrivateNetworks"/>. Checked early at initiate where it can be, and again at
/// every connection: <see cref="ConnectAsync"/> resolves, vets and connects to the vetted address itself, so a
/// DNS answer that changes between the check and the connection (rebinding) cannot slip through.
/// </summary>
public sealed class WebhookTargetGuard(IOptions<WebhookOptions> options)
{
    private readonly WebhookOptions _options = options.Value;

    /// <summary>
    /// Why <paramref name="callbackUrl"/> is refused, or <c>null</c>. Fast by design: the lookup is bounded, and a
    /// host that cannot be resolved now is accepted (it is vetted again at delivery).
    /// </summary>
    public async Task<string?> CheckAtInitiateAsync(Uri callbackUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callbackUrl);
        var portRefusal = _options.AllowsPort(callbackUrl.Port) ? null : PortRefusalMessage(callbackUrl.Port);
        if (_options.AllowPrivateNetworks)
        {
            return portRefusal;
        }

        IPAddress[] addresses;
        try
        {
            using var lookup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lookup.CancelAfter(_options.InitiateLookupTimeoutMs);
            addresses = await ResolveAsync(callbackUrl.DnsSafeHost, lookup.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return portRefusal;
        }

        // A forbidden address is the refusal that matters most, so it is the one named.
        return addresses.Any(IpAddressClassifier.IsForbidden) ? RefusalMessage : portRefusal;
    }

    /// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> of webhook requests.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endPoint = context.DnsEndPoint;
        if (!_options.AllowsPort(endPoint.Port))
        {
            throw new WebhookTargetRefusedException($"{endPoint.Host}: {PortRefusalMessage(endPoint.Port)}");
        }

        var addresses = await ResolveAsync(endPoint.Host, cancellationToken);
        if (!_options.AllowPrivateNetworks && addresses.Any(IpAddressClassifier.IsForbidden))
        {
            throw new WebhookTargetRefusedException($"{endPoint.Host}: {RefusalMessage}");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private string PortRefusalMessage(int port) =>
        $"must use an allowed port ({_options.AllowedPorts}, Downloads:Webhooks:AllowedPorts), not {port}";

    public const string RefusalMessage =
        "must not resolve to a loopback, private, link-local or otherwise non-public address";

    // An IP literal is its own answer; a name is looked up.
    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
}
