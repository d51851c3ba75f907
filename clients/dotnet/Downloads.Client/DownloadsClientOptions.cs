using System.ComponentModel.DataAnnotations;

namespace Downloads.Client;

/// <summary>How <see cref="DownloadsClient.FollowAsync"/> receives a job's events.</summary>
public enum FollowTransport
{
    /// <summary>The hub as negotiated (WebSockets, then Server-Sent Events, then long polling); REST polling while it cannot be reached.</summary>
    Auto,
    WebSockets,
    ServerSentEvents,
    LongPolling,
    /// <summary>The plain SSE stream, <c>GET /v1/download/events/{job_id}</c>.</summary>
    EventStream,
    /// <summary>Only REST polling of the status document.</summary>
    Polling,
}

/// <summary>Settings of a <see cref="DownloadsClient"/>; the defaults suit a client behind ordinary proxies.</summary>
public sealed class DownloadsClientOptions
{
    /// <summary>Where the service is (a path prefix is kept). Default: the HttpClient's BaseAddress.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The API key (<c>Authorization: Bearer</c>), where the service requires keys.</summary>
    public string? ApiKey { get; set; }

    /// <value>Default <see cref="FollowTransport.Auto"/>.</value>
    public FollowTransport Transport { get; set; } = FollowTransport.Auto;

    /// <summary>Polling period while the hub cannot be reached.</summary>
    /// <value>Default 2 s.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long events past a gap wait for the missing ones before a re-sync from the status document.</summary>
    /// <value>Default 1 s.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan GapHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A status check while connected, in case a terminal event was lost; <see cref="TimeSpan.Zero"/> turns it off.</summary>
    /// <value>Default 15 s.</value>
    public TimeSpan SafetyPollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Waits between reconnect attempts that fail, the last one repeating; ±20 % jitter.</summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; set; } =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30)];

    /// <summary>Wraps the SignalR client's HTTP handler (negotiate, Server-Sent Events, long polling), e.g. for a proxy.</summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? HubMessageHandlerFactory { get; set; }
}
