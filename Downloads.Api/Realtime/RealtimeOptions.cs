using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Api.Realtime;

/// <summary>
/// <c>Downloads:Realtime</c>. A proxy closes a connection that stays silent longer than its idle limit
/// (nginx <c>proxy_read_timeout</c> 60 s by default, Cloudflare 100 s): <see cref="KeepAliveSeconds"/> and
/// <see cref="LongPollSeconds"/> must both stay below the limit of every proxy in front of the service.
/// </summary>
public sealed class RealtimeOptions
{
    public const string Section = "Downloads:Realtime";

    /// <value>
    /// The hub's transports; default all three, which clients negotiate in the order WebSockets →
    /// ServerSentEvents → LongPolling. Narrow it (e.g. <c>LongPolling</c>) to test or to suit a proxy.
    /// </value>
    public HttpTransportType Transports { get; set; } =
        HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;

    /// <value>
    /// Longest silence on a push connection: the SignalR keep-alive ping (WebSockets and SSE transports) and the
    /// comment line of <c>/v1/download/events</c>; default 15 s.
    /// </value>
    [Range(1, 300)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <value>How long a SignalR long poll waits for a message before it answers empty; default 20 s.</value>
    [Range(1, 300)]
    public int LongPollSeconds { get; set; } = 20;

    public TimeSpan KeepAliveInterval => TimeSpan.FromSeconds(KeepAliveSeconds);
}
