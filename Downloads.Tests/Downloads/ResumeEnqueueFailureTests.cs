using System.Net;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Downloads;

/// <summary>
/// A resume is committed before any run is enqueued, and the commit puts the job back in the ready ring: Hangfire
/// refusing the run fails nothing, and once Hangfire takes runs again the sweeper enqueues one and the job ends.
/// </summary>
public sealed class ResumeEnqueueFailureTests
{
    [Fact]
    public async Task A_resume_whose_run_Hangfire_refuses_answers_202_and_the_job_ends_once_Hangfire_takes_runs_again()
    {
        var hangfire = new SwitchableBackgroundJobClient();
        await using var app = new SlowJobsApplication();
        app.WithServices(hangfire.Register);
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000, 70007]);
        await api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);
        using var pause = await api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();
        await api.WaitForAsync(job.JobId, s => s.Status == JobStatus.Paused, TimeSpan.FromSeconds(20));

        hangfire.Refuse = true;
        using var resumed = await api.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();
        var afterResume = await api.StatusAsync(job.JobId);
        hangfire.Refuse = false;
        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        resumed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        afterResume.Status.Should().Be(JobStatus.Processing, "the resume is committed whatever Hangfire says");
        ended.Status.Should().Be(JobStatus.Completed);
        ended.Results.Should().OnlyContain(r => r.Status == FileStatus.Completed);
    }
}
