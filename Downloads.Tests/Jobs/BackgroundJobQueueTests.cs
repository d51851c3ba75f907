using Downloads.Jobs;
using Downloads.Jobs.Processing;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.Options;

namespace Downloads.Tests.Jobs;

/// <summary>Hangfire's blocking enqueue runs on the queue's own threads, never the caller's; its failures reach the caller.</summary>
public sealed class BackgroundJobQueueTests
{
    [Fact]
    public async Task Enqueues_on_its_own_threads_and_returns_the_job_id()
    {
        var client = new RecordingClient();
        using var queue = new BackgroundJobQueue(client, Options.Create(new ProcessingOptions { EnqueueThreads = 2 }));

        var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => DownloadRun.EnqueueAsync(queue, [Guid.NewGuid()]))).DefaultTimeout();

        ids.Should().OnlyHaveUniqueItems().And.HaveCount(10);
        client.Threads.Should().OnlyContain(name => name != null && name.StartsWith("hangfire-enqueue-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_enqueue_fails_the_caller()
    {
        using var queue = new BackgroundJobQueue(new RecordingClient { Refuse = true }, Options.Create(new ProcessingOptions()));

        var enqueue = () => DownloadRun.EnqueueAsync(queue, [Guid.NewGuid()]).DefaultTimeout();

        await enqueue.Should().ThrowAsync<BackgroundJobClientException>();
    }

    private sealed class RecordingClient : IBackgroundJobClient
    {
        private int _next;

        public bool Refuse { get; init; }

        public List<string?> Threads { get; } = [];

        public string Create(Job job, IState state)
        {
            if (Refuse)
            {
                throw new BackgroundJobClientException("refused", new InvalidOperationException("storage down"));
            }

            lock (Threads)
            {
                Threads.Add(Thread.CurrentThread.Name);
            }

            return Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => false;
    }
}
