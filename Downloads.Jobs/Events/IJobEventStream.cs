using System.Threading.Channels;
using Downloads.Contracts;

namespace Downloads.Jobs.Events;

/// <summary>
/// Live events of one job for readers in this process (the SSE endpoint), whichever process recorded them.
/// It is also a sink, so the publisher feeds it.
/// </summary>
public interface IJobEventStream : IJobEventSink
{
    /// <summary>Starts receiving the job's events; dispose the subscription to stop.</summary>
    Task<JobEventSubscription> SubscribeAsync(Guid jobId, CancellationToken cancellationToken);
}

/// <summary>A reader of one job's live events.</summary>
public sealed class JobEventSubscription(ChannelReader<JobEvent> reader, Func<ValueTask> unsubscribe) : IAsyncDisposable
{
    public ChannelReader<JobEvent> Reader => reader;

    public ValueTask DisposeAsync() => unsubscribe();
}

/// <summary>One process: events go straight from the publisher to the subscribers.</summary>
public sealed class InMemoryJobEventStream : IJobEventStream
{
    private readonly JobEventFanOut _fanOut = new();

    public Task PublishAsync(JobEvent jobEvent, CancellationToken cancellationToken)
    {
        _fanOut.Deliver(jobEvent);
        return Task.CompletedTask;
    }

    public Task<JobEventSubscription> SubscribeAsync(Guid jobId, CancellationToken cancellationToken) =>
        Task.FromResult(_fanOut.Subscribe(jobId));
}
