using System.Text.Json;
using Downloads.Contracts;
using Downloads.Jobs.Ledger;
using Downloads.Jobs.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Downloads.Jobs.Events;

/// <summary>
/// Live events in Redis mode: one subscription per process to the events channel, fanned out to this process's
/// readers. Publishing is the commit script's job (<see cref="RedisJobStore"/>), so an SSE reader on any API node
/// sees the events a worker on any node records, and <see cref="PublishAsync"/> does nothing.
/// </summary>
public sealed partial class RedisJobEventStream(
    IConnectionMultiplexer redis, IOptions<RedisOptions> options, ILogger<RedisJobEventStream> logger) : IJobEventStream, IAsyncDisposable
{
    private readonly JobEventFanOut _fanOut = new();
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private ChannelMessageQueue? _queue;

    /// <summary>Nothing to do: the commit that recorded the event already published it.</summary>
    public Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<JobEventSubscription> SubscribeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await EnsureSubscribedAsync(cancellationToken);
        return _fanOut.Subscribe(jobId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_queue is { } queue)
        {
            // At shutdown Redis may be gone: do not wait for an answer.
            await queue.UnsubscribeAsync(CommandFlags.FireAndForget);
        }

        _subscribing.Dispose();
    }

    private async Task EnsureSubscribedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _queue) is not null)
        {
            return;
        }

        await _subscribing.WaitAsync(cancellationToken);
        try
        {
            if (_queue is null)
            {
                // A message queue delivers in order, so readers see a job's events in seq order; the
                // multiplexer re-subscribes by itself after a reconnect.
                var queue = await redis.GetSubscriber()
                    .SubscribeAsync(RedisChannel.Literal(options.Value.EventsChannel))
                    .WaitAsync(cancellationToken);
                queue.OnMessage(Deliver);
                Volatile.Write(ref _queue, queue);
            }
        }
        catch (Exception ex) when (ex is RedisConnectionException or TimeoutException)
        {
            throw new JobStoreUnavailableException("Redis is unavailable: cannot follow job events.", ex);
        }
        finally
        {
            _subscribing.Release();
        }
    }

    private void Deliver(ChannelMessage message)
    {
        try
        {
            if (JsonSerializer.Deserialize<JobEvent>((string)message.Message!, DownloadsJson.Options) is { } jobEvent)
            {
                _fanOut.Deliver(jobEvent);
            }
        }
        catch (JsonException ex)
        {
            // Readers re-sync from the job's log when they see the gap this leaves.
            LogUnreadableEvent(logger, ex, message.Channel.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An unreadable job event arrived on {Channel}; readers re-sync at the next one")]
    private static partial void LogUnreadableEvent(ILogger logger, Exception exception, string channel);
}
