using Microsoft.AspNetCore.Http.Connections;

namespace Downloads.Api.Realtime;

/// <summary><c>Downloads:Realtime</c>.</summary>
public sealed class RealtimeOptions
{
    public const string Section = "Downloads:Realtime";

    /// <value>
    /// The hub's transports; default all three, which clients negotiate in the order WebSockets →
    /// ServerSentEvents → LongPolling. Narrow it (e.g. <c>LongPolling</c>) to test or to suit a proxy.
    /// </value>
    public HttpTransportType Transports { get; set; } =
        HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;
}
