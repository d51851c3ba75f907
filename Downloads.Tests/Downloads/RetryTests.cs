using Downloads.Contracts;
using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Downloads.Tests.Downloads;

/// <summary>Transient storage faults are retried with backoff; attempts are recorded.</summary>
public sealed class RetryTests : IClassFixture<RetryTests.FlakyStorageApplication>
{
    private readonly DownloadsApi _api;

    public RetryTests(FlakyStorageApplication app) => _api = new DownloadsApi(app.CreateApiClient());

    [Fact]
    public async Task A_file_that_fails_transiently_twice_completes_on_the_third_attempt()
    {
        var job = await _api.InitiateAsync([FlakyFileStorage.FailsTwice]);

        var ended = await _api.WaitForEndAsync(job.JobId);

        ended.Results[0].Should().Match<FileResult>(r => r.Status == FileStatus.Completed && r.Attempts == 3);
    }

    [Fact]
    public async Task A_file_that_keeps_failing_fails_after_three_attempts()
    {
        var job = await _api.InitiateAsync([FlakyFileStorage.AlwaysFails]);

        var ended = await _api.WaitForEndAsync(job.JobId);

        ended.Results[0].Should().Match<FileResult>(r =>
            r.Status == FileStatus.Failed && r.Attempts == 3 && r.ErrorCode == "storage_unavailable");
    }

    [Fact]
    public async Task A_missing_file_fails_at_once()
    {
        var job = await _api.InitiateAsync([70001]);

        var ended = await _api.WaitForEndAsync(job.JobId);

        ended.Results[0].Should().Match<FileResult>(r => r.Attempts == 1 && r.ErrorCode == "not_found");
    }

    public sealed class FlakyStorageApplication : DownloadsApplication
    {
        public FlakyStorageApplication()
        {
            With("Downloads:Processing:DelayMinMs", "0");
            With("Downloads:Processing:DelayMaxMs", "0");
            WithServices(services =>
            {
                services.RemoveAll<IFileStorage>();
                services.AddSingleton<IFileStorage>(new FlakyFileStorage(new SyntheticFileStorage()));
            });
        }
    }

    /// <summary>The edge faked: storage that fails transiently, by file id.</summary>
    private sealed class FlakyFileStorage(IFileStorage inner) : IFileStorage
    {
        public const long FailsTwice = 70028;
        public const long AlwaysFails = 70035;

        private int _failsTwiceCalls;

        public Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken)
        {
            if (fileId == AlwaysFails || (fileId == FailsTwice && Interlocked.Increment(ref _failsTwiceCalls) <= 2))
            {
                throw new TransientStorageException($"storage timed out for {fileId}");
            }

            return inner.FindAsync(fileId, cancellationToken);
        }

        public Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken) => inner.OpenReadAsync(fileId, cancellationToken);
    }
}
