using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Downloads.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Downloads.Client;

/// <summary>
/// Follows one job to its end over the chosen transport: the hub (reconnecting with <c>?last_seq=</c> to replay what
/// it missed), the plain SSE stream (resuming with <c>Last-Event-ID</c>) or REST polling; polls while the hub cannot
/// be reached and re-syncs from the status document on a gap. Every event passes <see cref="EventSequence"/>.
/// </summary>
/// <param name="stop">Cancelled when following ends, for whatever reason; owned (and disposed) by the caller, after <see cref="RunAsync"/> completed.</param>
internal sealed class JobFollower(DownloadsClient client, Guid jobId, FollowTransport transport, ChannelWriter<JobEvent> output, CancellationTokenSource stop)
{
    private readonly Lock _gate = new();
    private readonly DownloadsClientOptions _options = client.Options;
    private readonly TimeProvider _time = client.Time;
    private EventSequence _sequence = EventSequence.Empty;
    private readonly CancellationTokenSource _stop = stop;
    private Exception? _failure;
    private ITimer? _gapTimer;
    private int _resyncing;

    /// <summary>Runs until the terminal event, a fatal answer (rethrown) or the stop token.</summary>
    public async Task RunAsync()
    {
        try
        {
            await LoopAsync(_stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Ended, failed or cancelled: said below.
        }
        finally
        {
            lock (_gate)
            {
                _gapTimer?.Dispose();
                _gapTimer = null;
                Stop();
            }

            output.TryComplete();
        }

        if (_failure is not null)
        {
            throw _failure;
        }
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        if (transport == FollowTransport.Polling)
        {
            await PollAsync(Timeout.InfiniteTimeSpan, stop);
            return;
        }

        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var delivered = false;
            try
            {
                delivered = transport == FollowTransport.EventStream ? await RunEventStreamAsync(stop) : await RunHubAsync(stop);
            }
            catch (DownloadsApiException error) when (error.IsFatal)
            {
                Fail(error);
            }
            catch (Exception error) when (error is HttpRequestException or IOException or WebSocketException or InvalidOperationException or TimeoutException
                                              or HubException or JsonException
                                          || (error is OperationCanceledException && !stop.IsCancellationRequested))
            {
                // Refused, dropped, a proxy in the way: poll, then try again.
            }

            // A connection that delivered and then dropped is retried at once: the reconnect replays what it missed.
            failures = delivered ? 0 : failures + 1;
            if (failures > 0 && !stop.IsCancellationRequested)
            {
                await PollAsync(Backoff(failures), stop);
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var delays = _options.ReconnectDelays;
        var baseDelay = delays.Count == 0 ? TimeSpan.FromSeconds(1) : delays[Math.Min(failures - 1, delays.Count - 1)];
        return baseDelay * (0.8 + (0.4 * Random.Shared.NextDouble()));
    }

    private void Fail(Exception error)
    {
        _failure ??= error;
        Stop();
    }

    private void Stop()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }
    }

    // ---- events ----------------------------------------------------------------------------------

    private void Apply(Func<EventSequence, List<JobEvent>, EventSequence> step)
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            var accepted = new List<JobEvent>();
            _sequence = step(_sequence, accepted);
            foreach (var jobEvent in accepted)
            {
                output.TryWrite(jobEvent);
            }

            if (_sequence.Ended)
            {
                Stop();
            }
            else if (_sequence.GapSince is not null && _gapTimer is null)
            {
                _gapTimer = _time.CreateTimer(_ => OnGapTimer(), null, _options.GapHold, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Receive(JobEvent jobEvent)
    {
        if (jobEvent.JobId == jobId)
        {
            Apply((sequence, accepted) => sequence.Receive(jobEvent, _time.GetUtcNow(), accepted));
        }
    }

    private void OnGapTimer()
    {
        bool expired;
        lock (_gate)
        {
            _gapTimer?.Dispose();
            _gapTimer = null;
            expired = _sequence.GapExpired(_time.GetUtcNow(), _options.GapHold);
        }

        if (expired)
        {
            _ = RefreshAsync(_stop.Token);
        }
        else
        {
            Apply((sequence, _) => sequence);
        }
    }

    /// <summary>GETs the status document and applies it (a re-sync); a fatal answer ends the follower.</summary>
    private async Task RefreshAsync(CancellationToken stop)
    {
        if (Interlocked.Exchange(ref _resyncing, 1) == 1)
        {
            return;
        }

        try
        {
            var document = await client.GetStatusAsync(jobId, stop);
            Apply((sequence, accepted) => sequence.Resync(document, _time.GetUtcNow(), accepted));
        }
        catch (DownloadsApiException error) when (error.IsFatal)
        {
            Fail(error);
        }
        catch (Exception error) when (error is DownloadsApiException or HttpRequestException or JsonException or OperationCanceledException)
        {
            // The next poll, event or reconnect tries again.
        }
        finally
        {
            Volatile.Write(ref _resyncing, 0);
        }
    }

    /// <summary>Polls the status document for <paramref name="duration"/> (at least once), or until the job ends.</summary>
    private async Task PollAsync(TimeSpan duration, CancellationToken stop)
    {
        var until = duration == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : _time.GetUtcNow() + duration;
        while (true)
        {
            await RefreshAsync(stop);
            var left = until - _time.GetUtcNow();
            if (stop.IsCancellationRequested || left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < _options.PollInterval ? left : _options.PollInterval, _time, stop);
        }
    }

    /// <summary>While connected: a slow status check, in case a terminal event was lost on the way.</summary>
    private ITimer? StartSafetyPoll(CancellationToken stop) =>
        _options.SafetyPollInterval > TimeSpan.Zero
            ? _time.CreateTimer(_ => _ = RefreshAsync(stop), null, _options.SafetyPollInterval, _options.SafetyPollInterval)
            : null;

    // ---- transports ------------------------------------------------------------------------------

    /// <summary>One hub connection at <c>/ws/download/{job_id}</c>; true when it delivered an event.</summary>
    private async Task<bool> RunHubAsync(CancellationToken stop)
    {
        var transports = transport switch
        {
            FollowTransport.WebSockets => HttpTransportType.WebSockets,
            FollowTransport.ServerSentEvents => HttpTransportType.ServerSentEvents,
            FollowTransport.LongPolling => HttpTransportType.LongPolling,
            _ => HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
        };
        var seq = _sequence.Seq;
        var url = new Uri(client.BaseAddress, $"ws/download/{jobId:D}" + (seq > 0 ? $"?last_seq={seq}" : ""));
        var token = client.HubToken(jobId);
        var connection = new HubConnectionBuilder()
            .WithUrl(url, transports, options =>
            {
                if (token is not null)
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }

                if (_options.HubMessageHandlerFactory is { } factory)
                {
                    options.HttpMessageHandlerFactory = factory;
                }
            })
            .AddJsonProtocol(options => ClientJson.Configure(options.PayloadSerializerOptions))
            .Build();
        await using (connection)
        {
            var delivered = false;
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += _ =>
            {
                closed.TrySetResult();
                return Task.CompletedTask;
            };
            using var updates = connection.On<JobEvent>("update", jobEvent =>
            {
                delivered = true;
                Receive(jobEvent);
            });
            await connection.StartAsync(stop);
            using var safety = StartSafetyPoll(stop);
            try
            {
                await closed.Task.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The job ended (or the caller stopped): close the connection below.
            }

            return delivered;
        }
    }

    /// <summary>One plain SSE stream (<c>GET /v1/download/events/{job_id}</c>, resuming with <c>Last-Event-ID</c>).</summary>
    private async Task<bool> RunEventStreamAsync(CancellationToken stop)
    {
        using var request = client.Request(HttpMethod.Get, $"v1/download/events/{jobId:D}", jobId);
        request.Headers.Accept.Clear();
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (_sequence.Seq > 0)
        {
            request.Headers.Add("Last-Event-ID", _sequence.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await client.SendCheckedAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
        // 204: the job ended and this client has every event; the status document says how it ended.
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            await RefreshAsync(stop);
            return true;
        }

        var delivered = false;
        using var safety = StartSafetyPoll(stop);
        await using var body = await response.Content.ReadAsStreamAsync(stop);
        await foreach (var message in ServerSentEvents.ReadAsync(body, stop))
        {
            if (JsonSerializer.Deserialize<JobEvent>(message.Data, ClientJson.Options) is { } jobEvent)
            {
                delivered = true;
                Receive(jobEvent);
            }
        }

        return delivered;
    }
}
