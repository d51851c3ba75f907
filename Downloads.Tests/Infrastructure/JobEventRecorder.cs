using Downloads.Contracts;
using Downloads.Jobs;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// A SignalR client of the download hub that follows one job the way the contract tells clients to:
/// drop what it already has (seq at or below), and re-sync from a snapshot when it sees a gap. It re-syncs at once:
/// the hub relays each subscription gap-free (snapshot or replay, then every event in seq order), so nothing on its
/// way can close a gap, and every gap counts in <see cref="Resyncs"/>. (The shipped clients hold a gap for a moment
/// first, as servers that sent a catch-up snapshot after a group join needed.)
/// <see cref="Applied"/> is what the client ends up applying; <see cref="Received"/> everything that arrived.
/// </summary>
public sealed class JobEventRecorder : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<JobEvent> _received = [];
    private readonly List<JobEvent> _applied = [];
    private readonly TaskCompletionSource<JobEvent> _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Guid _jobId;

    // The seq the client had before this connection (a replaying client); null: it starts from a snapshot.
    private readonly long? _resumedAfter;

    private JobEventRecorder(HubConnection connection, Guid jobId, long? resumedAfter = null)
    {
        Connection = connection;
        _jobId = jobId;
        _resumedAfter = resumedAfter;
        connection.On<JobEvent>("update", OnUpdate);
        connection.Closed += error =>
        {
            if (error is not null)
            {
                _terminal.TrySetException(error);
            }

            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    public int Resyncs { get; private set; }

    public IReadOnlyList<JobEvent> Received { get { lock (_gate) { return [.. _received]; } } }

    public IReadOnlyList<JobEvent> Applied { get { lock (_gate) { return [.. _applied]; } } }

    /// <summary>A connection to <paramref name="hubUrl"/>; with <paramref name="accessToken"/>, sent as SignalR clients send theirs.</summary>
    public static HubConnection Build(Uri hubUrl, HttpTransportType transport, string? accessToken = null) =>
        new HubConnectionBuilder()
            .WithUrl(hubUrl, options =>
            {
                options.Transports = transport;
                if (accessToken is not null)
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }
            })
            .AddJsonProtocol(options => DownloadsJson.Configure(options.PayloadSerializerOptions))
            .Build();

    /// <summary>Connects to <c>/ws/download/{job_id}</c>: subscribed at once.</summary>
    public static Task<JobEventRecorder> FollowAsync(Uri baseAddress, Guid jobId, HttpTransportType transport) =>
        FollowUrlAsync(new Uri(baseAddress, $"/ws/download/{jobId}"), jobId, transport);

    /// <summary>Connects to <paramref name="hubUrl"/> (an initiate answer's <c>hub_url</c>, its query included): subscribed at once.</summary>
    public static async Task<JobEventRecorder> FollowUrlAsync(Uri hubUrl, Guid jobId, HttpTransportType transport)
    {
        var recorder = new JobEventRecorder(Build(hubUrl, transport), jobId);
        await recorder.Connection.StartAsync().DefaultTimeout();
        return recorder;
    }

    /// <summary>Connects to <c>/ws/download</c> (with <paramref name="accessToken"/> if given) and calls <c>Subscribe</c>.</summary>
    public static async Task<JobEventRecorder> SubscribeAsync(Uri baseAddress, Guid jobId, HttpTransportType transport, string? accessToken = null)
    {
        var recorder = new JobEventRecorder(Build(new Uri(baseAddress, "/ws/download"), transport, accessToken), jobId);
        await recorder.Connection.StartAsync().DefaultTimeout();
        await recorder.Connection.InvokeAsync("Subscribe", jobId.ToString()).DefaultTimeout();
        return recorder;
    }

    /// <summary>
    /// A client that has every event up to <paramref name="lastSeq"/> reconnects and resumes after it:
    /// <c>/ws/download/{job_id}?last_seq=N</c> (<paramref name="jobPath"/>) or <c>SubscribeFrom</c> on <c>/ws/download</c>.
    /// </summary>
    public static async Task<JobEventRecorder> ResumeAsync(Uri baseAddress, Guid jobId, long lastSeq, HttpTransportType transport, bool jobPath)
    {
        var path = jobPath ? $"/ws/download/{jobId}?last_seq={lastSeq}" : "/ws/download";
        var recorder = new JobEventRecorder(Build(new Uri(baseAddress, path), transport), jobId, lastSeq);
        await recorder.Connection.StartAsync().DefaultTimeout();
        if (!jobPath)
        {
            await recorder.Connection.InvokeAsync("SubscribeFrom", jobId.ToString(), lastSeq).DefaultTimeout();
        }

        return recorder;
    }

    public Task<JobEvent> WaitForTerminalAsync(TimeSpan? timeout = null) => _terminal.Task.DefaultTimeout(timeout);

    public async Task<JobEvent> WaitForAsync(Func<JobEvent, bool> predicate, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            if (Applied.FirstOrDefault(predicate) is { } found)
            {
                return found;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();

    private void OnUpdate(JobEvent jobEvent)
    {
        if (jobEvent.JobId != _jobId)
        {
            return;
        }

        var resync = false;
        lock (_gate)
        {
            _received.Add(jobEvent);
            var current = _applied.Count == 0 ? _resumedAfter : _applied[^1].Seq;
            if (current is null && jobEvent.Type != JobEventType.Snapshot)
            {
                return; // nothing to apply an event to before the first snapshot
            }

            if (current is { } seq && jobEvent.Seq <= seq)
            {
                return;
            }

            if (current is { } last && jobEvent.Seq > last + 1 && jobEvent.Type != JobEventType.Snapshot)
            {
                resync = true;
                Resyncs++;
            }
            else
            {
                _applied.Add(jobEvent);
                if (jobEvent.Status.IsTerminal())
                {
                    _terminal.TrySetResult(jobEvent);
                }
            }
        }

        if (resync)
        {
            _ = Connection.InvokeAsync("Subscribe", _jobId.ToString());
        }
    }
}
