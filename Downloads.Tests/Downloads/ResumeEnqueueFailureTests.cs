using System.Net;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Downloads.Tests.Downloads;

/// <summary>A resume whose dispatch Hangfire refuses answers 503 and leaves the job paused, ready for another resume.</summary>
public sealed class ResumeEnqueueFailureTests
{
    [Fact]
    public async Task A_resume_that_cannot_be_enqueued_is_503_and_the_job_stays_paused()
    {
        var refusing = new SwitchableJobClient();
        await using var app = new SlowJobsApplication();
        app.WithServices(services =>
        {
            services.RemoveAll<IBackgroundJobClient>();
            services.AddSingleton<IBackgroundJobClient>(sp => refusing.Wrap(new BackgroundJobClient(sp.GetRequiredService<JobStorage>())));
        });
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000, 70007]);
        await api.WaitForAsync(job.JobId, s => s.Results[0].Status == FileStatus.Processing);
        using var pause = await api.Http.PostAsync($"/v1/download/{job.JobId}/pause", null).DefaultTimeout();
        await api.WaitForAsync(job.JobId, s => s.Status == JobStatus.Paused, TimeSpan.FromSeconds(20));

        refusing.Refuse = true;
        using var refused = await api.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();
        var after = await api.StatusAsync(job.JobId);
        refusing.Refuse = false;
        using var resumed = await api.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();
        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(20));

        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        after.Status.Should().Be(JobStatus.Paused, "nothing would run a job left processing");
        resumed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        ended.Status.Should().Be(JobStatus.Completed);
    }

    /// <summary>The edge faked: Hangfire's storage refusing new jobs while <see cref="Refuse"/> is set.</summary>
    private sealed class SwitchableJobClient
    {
        public volatile bool Refuse;

        public IBackgroundJobClient Wrap(IBackgroundJobClient inner) => new Client(this, inner);

        private sealed class Client(SwitchableJobClient owner, IBackgroundJobClient inner) : IBackgroundJobClient
        {
            public string Create(Job job, IState state) =>
                owner.Refuse ? throw new BackgroundJobClientException("Hangfire storage refused the job.", new InvalidOperationException("test")) : inner.Create(job, state);

            public bool ChangeState(string jobId, IState state, string expectedState) => inner.ChangeState(jobId, state, expectedState);
        }
    }
}
