using System.Net;
using System.Net.Http.Json;
using Downloads.Contracts;
using Downloads.Jobs.Processing;
using Downloads.Tests.Infrastructure;
using Hangfire;

namespace Downloads.Tests.Downloads;

/// <summary>Result, cancel, pause and resume: in memory.</summary>
public sealed class InMemoryJobLifecycleTests(SlowJobsApplication app) : JobLifecycleTests<SlowJobsApplication>(app);

/// <summary>Result, cancel, pause and resume: in Redis mode.</summary>
public sealed class RedisJobLifecycleTests(RedisSlowJobsApplication app) : JobLifecycleTests<RedisSlowJobsApplication>(app);

/// <summary>Result, cancel, pause and resume, on jobs slow enough to act on mid-flight.</summary>
public abstract class JobLifecycleTests<TApplication>(TApplication app) : IClassFixture<TApplication>
    where TApplication : DownloadsApplication
{
    private readonly DownloadsApi _api = new(app.CreateApiClient());

    [Fact]
    public async Task Result_of_a_running_job_is_202_with_retry_after()
    {
        var job = await _api.InitiateAsync([70000, 70007]);

        using var response = await _api.Http.GetAsync(job.ResultUrl).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        response.Headers.RetryAfter!.Delta.Should().BePositive();
        (await response.Content.ReadFromJsonAsync<JobPendingDocument>(DownloadsApi.Json))!.Progress.Total.Should().Be(2);
        await _api.Http.DeleteAsync($"/v1/download/{job.JobId}");
    }

    [Fact]
    public async Task Cancel_mid_job_skips_pending_files_and_stops_the_file_in_flight()
    {
        var job = await _api.InitiateAsync([70000, 70007, 70014]);
        await _api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);

        using var response = await _api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var cancelled = (await response.Content.ReadFromJsonAsync<JobStatusDocument>(DownloadsApi.Json))!;
        cancelled.Status.Should().Be(JobStatus.Cancelled);
        cancelled.CompletedAt.Should().NotBeNull();
        cancelled.Results.Select(r => r.Status).Should().AllBeEquivalentTo(FileStatus.Skipped);
        cancelled.Results[0].ErrorCode.Should().Be("cancelled");
        await WaitUntilNoFileRunsAsync(TimeSpan.FromSeconds(1.9));
    }

    [Fact]
    public async Task Cancel_keeps_the_links_of_completed_files()
    {
        var job = await _api.InitiateAsync([70000, 70007, 70014]);
        await _api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Completed, TimeSpan.FromSeconds(20));

        using var response = await _api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        var cancelled = (await response.Content.ReadFromJsonAsync<JobStatusDocument>(DownloadsApi.Json))!;
        cancelled.Results[0].Status.Should().Be(FileStatus.Completed);
        cancelled.Results[0].DownloadUrl.Should().NotBeNull();
        cancelled.Results.Skip(1).Select(r => r.Status).Should().AllBeEquivalentTo(FileStatus.Skipped);
    }

    [Fact]
    public async Task Cancel_is_idempotent_on_a_cancelled_job()
    {
        var job = await _api.InitiateAsync([70000]);
        using var first = await _api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        using var second = await _api.Http.DeleteAsync($"/v1/download/{job.JobId}").DefaultTimeout();

        second.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await second.Content.ReadFromJsonAsync<JobStatusDocument>(DownloadsApi.Json))!.Seq
            .Should().Be((await first.Content.ReadFromJsonAsync<JobStatusDocument>(DownloadsApi.Json))!.Seq, "nothing changed");
    }

    [Fact]
    public async Task Pause_then_resume_finishes_the_job_without_redoing_a_completed_file()
    {
        var job = await _api.InitiateAsync([70000, 70007, 70014]);
        await _api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);

        using var pause = await _api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();
        var paused = await _api.WaitForAsync(job.JobId, s => s.Status == JobStatus.Paused, TimeSpan.FromSeconds(20));
        using var resume = await _api.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();
        var ended = await _api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        pause.StatusCode.Should().Be(HttpStatusCode.Accepted);
        paused.Results.Select(r => r.Status).Should().Equal(FileStatus.Completed, FileStatus.Pending, FileStatus.Pending);
        resume.StatusCode.Should().Be(HttpStatusCode.Accepted);
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed && r.Attempts == 1);
    }

    [Fact]
    public async Task Resume_of_a_job_that_is_not_paused_is_409()
    {
        var job = await _api.InitiateAsync([70000]);

        using var response = await _api.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await DownloadsApi.ProblemAsync(response)).GetProperty("status").GetInt32().Should().Be(409);
        await _api.Http.DeleteAsync($"/v1/download/{job.JobId}");
    }

    [Fact]
    public async Task Deleting_a_running_run_in_the_dashboard_does_not_strand_the_download_job()
    {
        var job = await _api.InitiateAsync([70000]);
        await _api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);
        var storage = app.Services.GetRequiredService<JobStorage>();
        var running = storage.GetMonitoringApi().ProcessingJobs(0, 100)
            .Single(j => j.Value.Job.Method.Name == nameof(DownloadRun.RunAsync) && ((Guid[])j.Value.Job.Args[0]).Contains(job.JobId));

        app.Services.GetRequiredService<IBackgroundJobClient>().Delete(running.Key);
        var ended = await _api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results[0].Attempts.Should().Be(2, "the deleted run gave the file back and its successor prepared it");
    }

    private async Task WaitUntilNoFileRunsAsync(TimeSpan within)
    {
        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        using var deadline = new CancellationTokenSource(within);
        while (monitoring.ProcessingCount() > 0)
        {
            await Task.Delay(50, deadline.Token);
        }
    }
}
