using System.Reflection;
using Downloads.Api.Protection;
using Downloads.Jobs.Events;
using Downloads.Jobs.Ledger;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Downloads.Tests.Operations;

/// <summary>The per-client limits count files not yet ended, and refusing a client at its limit stays cheap.</summary>
public sealed class ActiveJobLimiterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly InMemoryJobStore _store;
    private readonly CountingStore _counting;

    public ActiveJobLimiterTests()
    {
        _store = new InMemoryJobStore(_time);
        _counting = CountingStore.Wrap(_store);
    }

    [Fact]
    public async Task A_job_whose_files_would_pass_the_client_file_limit_is_refused_and_one_that_fits_is_not()
    {
        var limiter = Limiter(maxFiles: 5);
        limiter.Track("a", await StoredJobAsync(), 3);

        (await limiter.MayStartAsync("a", 3, CancellationToken.None)).Should().BeFalse("3 + 3 files are more than 5");
        (await limiter.MayStartAsync("a", 2, CancellationToken.None)).Should().BeTrue("3 + 2 files fit");
        (await limiter.MayStartAsync("b", 5, CancellationToken.None)).Should().BeTrue("the limit is per client");
    }

    [Fact]
    public async Task Refusals_at_the_limit_read_the_store_at_most_once_per_recheck_interval()
    {
        var limiter = Limiter(maxFiles: 10);
        for (var i = 0; i < 10; i++)
        {
            limiter.Track("a", await StoredJobAsync(), 1);
        }

        for (var i = 0; i < 100; i++)
        {
            (await limiter.MayStartAsync("a", 1, CancellationToken.None)).Should().BeFalse();
        }

        _counting.HeaderReads.Should().Be(10, "one check of the client's ten jobs, then refusals at O(1)");
        _time.Advance(ActiveJobLimiter.RecheckInterval);
        (await limiter.MayStartAsync("a", 1, CancellationToken.None)).Should().BeFalse();
        _counting.HeaderReads.Should().Be(20);
    }

    [Fact]
    public async Task A_job_that_ended_where_this_node_did_not_see_it_frees_its_files_at_the_next_check()
    {
        var limiter = Limiter(maxFiles: 1);
        var ended = await StoredJobAsync();
        limiter.Track("a", ended, 1);
        await new JobLedger(_store, new JobEventPublisher([], NullLogger<JobEventPublisher>.Instance), _time)
            .UpdateWholeAsync(ended, (job, now) => JobTransitions.Cancel(job, now), CancellationToken.None);

        (await limiter.MayStartAsync("a", 1, CancellationToken.None)).Should().BeTrue();
    }

    private ActiveJobLimiter Limiter(int maxFiles) => new(
        _counting.Store, Options.Create(new RateLimitingOptions { MaxActiveJobsPerClient = 0, MaxActiveFilesPerClient = maxFiles }), _time);

    private async Task<Guid> StoredJobAsync()
    {
        var job = DownloadJob.Create(Guid.NewGuid(), [70000], null, "http://localhost", _time.GetUtcNow());
        await _store.CreateAsync(job, CancellationToken.None);
        return job.Id;
    }

    /// <summary>The real store, with its header reads counted.</summary>
    public class CountingStore : DispatchProxy
    {
        private IJobStore _inner = null!;
        private int _headerReads;

        public int HeaderReads => _headerReads;

        public IJobStore Store => (IJobStore)(object)this;

        public static CountingStore Wrap(IJobStore inner)
        {
            var proxy = (CountingStore)(object)Create<IJobStore, CountingStore>();
            proxy._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IJobStore.GetHeaderAsync))
            {
                Interlocked.Increment(ref _headerReads);
            }

            return targetMethod!.Invoke(_inner, args);
        }
    }
}
