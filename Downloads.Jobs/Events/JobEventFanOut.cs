using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading.Channels;
using Downloads.Contracts;

namespace Downloads.Jobs.Events;

/// <summary>Delivers a job's events to this process's subscribers, each through its own bounded channel.</summary>
internal sealed class JobEventFanOut
{
    // A reader that falls this far behind drops the oldest events; it sees the gap in seq and re-syncs.
    private const int SubscriberCapacity = 1024;

    private readonly ConcurrentDictionary<Guid, ImmutableList<Channel<JobEvent>>> _subscribers = new();

    public void Deliver(JobEvent jobEvent)
    {
        if (_subscribers.TryGetValue(jobEvent.JobId, out var channels))
        {
            foreach (var channel in channels)
            {
                channel.Writer.TryWrite(jobEvent);
            }
        }
    }

    public JobEventSubscription Subscribe(Guid jobId)
    {
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        _subscribers.AddOrUpdate(jobId, _ => [channel], (_, list) => list.Add(channel));

        return new JobEventSubscription(channel.Reader, () =>
        {
            channel.Writer.TryComplete();
            _subscribers.AddOrUpdate(jobId, _ => [], (_, list) => list.Remove(channel));
            // Drop the key once empty; a concurrent Subscribe re-adds it.
            _subscribers.TryRemove(new KeyValuePair<Guid, ImmutableList<Channel<JobEvent>>>(jobId, []));
            return ValueTask.CompletedTask;
        });
    }
}
