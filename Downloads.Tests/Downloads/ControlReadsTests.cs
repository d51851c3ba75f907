using System.Collections.Concurrent;
using System.Net;
using Downloads.Jobs.Ledger;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Downloads.Tests.Downloads;

/// <summary>
/// Cancel, pause, resume and retry check who may act on a job from its header (O(1)); the whole job (O(files)) is read
/// only where the answer or the change needs it.
/// </summary>
public sealed class ControlReadsTests
{
    private readonly WholeJobReads _reads = new();

    [Fact]
    public async Task A_refused_pause_reads_no_whole_job()
    {
        await using var app = App(fileDelayMs: 0);
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob);
        await api.WaitForEndAsync(job.JobId);
        var before = _reads.Of(job.JobId);

        using var response = await api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (_reads.Of(job.JobId) - before).Should().Be(0);
    }

    [Fact]
    public async Task An_accepted_pause_reads_the_whole_job_once_for_its_answer()
    {
        // Files slow enough that the job cannot end (a terminal event reads the whole job) while the pause is answered.
        await using var app = App(fileDelayMs: 5000);
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob);
        var before = _reads.Of(job.JobId);

        using var response = await api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (_reads.Of(job.JobId) - before).Should().Be(1);
    }

    [Fact]
    public async Task A_retry_reads_the_ended_job_once()
    {
        await using var app = App(fileDelayMs: 0);
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob);
        await api.WaitForEndAsync(job.JobId);
        var before = _reads.Of(job.JobId);

        using var response = await api.Http.PostAsync($"/v1/download/{job.JobId}/retry", null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (_reads.Of(job.JobId) - before).Should().Be(1);
    }

    private DownloadsApplication App(int fileDelayMs) => new DownloadsApplication()
        .With("Downloads:Processing:DelayMinMs", $"{fileDelayMs}")
        .With("Downloads:Processing:DelayMaxMs", $"{fileDelayMs}")
        .WithServices(services => WholeJobReads.Decorate(services, _reads));

    /// <summary>Counts the whole-job reads (<see cref="IJobStore.GetAsync"/>) of the service's job store, per job.</summary>
    public sealed class WholeJobReads
    {
        private readonly ConcurrentDictionary<Guid, int> _counts = new();

        public int Of(Guid jobId) => _counts.GetValueOrDefault(jobId);

        public static void Decorate(IServiceCollection services, WholeJobReads reads) =>
            JobStoreDecorator.Decorate(services, (method, args, call) =>
            {
                if (method.Name == nameof(IJobStore.GetAsync))
                {
                    reads.Add((Guid)args[0]!);
                }

                return call();
            });

        internal void Add(Guid jobId) => _counts.AddOrUpdate(jobId, 1, (_, count) => count + 1);
    }
}
