using System.Net;
using System.Net.Http.Headers;
using Downloads.Contracts;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Downloads.Tests.Access;

/// <summary>
/// With API keys configured, a job's access token opens that job's routes in place of the key (how a back end hands
/// one job to a browser): every URL of the initiate answer carries it, and it opens no other job.
/// </summary>
public sealed class JobAccessTokenTests : IAsyncLifetime
{
    private readonly DownloadsApplication _app = AccessTestApps.Create();
    private DownloadsApi _anonymous = null!;
    private DownloadsApi _backEnd = null!;

    public Task InitializeAsync()
    {
        _anonymous = AccessTestApps.Client(_app, null);
        _backEnd = AccessTestApps.Client(_app, AccessTestApps.KeyA);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Every_url_of_the_initiate_answer_carries_the_token_and_the_token_is_not_the_id()
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);

        job.AccessToken.Should().StartWith("jat_").And.NotContain(job.JobId.ToString("D")).And.NotContain(job.JobId.ToString("N"));
        new[] { job.WebsocketUrl, job.HubUrl, job.StatusUrl, job.ResultUrl, job.EventsUrl }
            .Should().OnlyContain(url => url.EndsWith($"?access_token={job.AccessToken}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_status_result_and_events_urls_work_as_given_without_a_key()
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);

        using var status = await _anonymous.Http.GetAsync(job.StatusUrl).DefaultTimeout();
        using var result = await _anonymous.Http.GetAsync(job.ResultUrl).DefaultTimeout();
        using var events = await _anonymous.Http.GetAsync(job.EventsUrl, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();

        status.StatusCode.Should().Be(HttpStatusCode.OK);
        result.StatusCode.Should().BeOneOf(HttpStatusCode.OK, HttpStatusCode.Accepted);
        events.StatusCode.Should().Be(HttpStatusCode.OK);
        events.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/{0}")]
    [InlineData("GET", "/v1/download/result/{0}")]
    [InlineData("GET", "/v1/download/events/{0}")]
    public async Task The_token_also_works_as_a_bearer_header(string method, string route)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(route, job.JobId));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", job.AccessToken);

        using var response = await _anonymous.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();

        response.IsSuccessStatusCode.Should().BeTrue();
    }

    [Fact]
    public async Task Cancel_pause_and_resume_accept_the_token()
    {
        var job = await _backEnd.InitiateAsync([70000, 70007, 70014, 70021, 70028]);
        var query = $"?access_token={job.AccessToken}";

        using var pause = await _anonymous.Http.PostAsync($"/v1/download/{job.JobId}/pause{query}", null).DefaultTimeout();
        using var pausedWithout = await _anonymous.Http.PostAsync($"/v1/download/{job.JobId}/resume", null).DefaultTimeout();
        var paused = await _backEnd.WaitForAsync(job.JobId, s => s.Status is JobStatus.Paused or JobStatus.Completed);
        using var resume = await _anonymous.Http.PostAsync($"/v1/download/{job.JobId}/resume{query}", null).DefaultTimeout();
        using var cancel = await _anonymous.Http.DeleteAsync($"/v1/download/{job.JobId}{query}").DefaultTimeout();

        pause.StatusCode.Should().Be(HttpStatusCode.Accepted);
        pausedWithout.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        paused.Status.Should().Be(JobStatus.Paused);
        resume.StatusCode.Should().Be(HttpStatusCode.Accepted);
        cancel.StatusCode.Should().BeOneOf(HttpStatusCode.Accepted, HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("GET", "/v1/download/status/{0}")]
    [InlineData("GET", "/v1/download/events/{0}")]
    [InlineData("DELETE", "/v1/download/{0}")]
    public async Task Another_jobs_token_opens_nothing(string method, string route)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        var other = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);

        using var response = await _anonymous.Http.SendAsync(new HttpRequestMessage(
            new HttpMethod(method), string.Format(route, job.JobId) + $"?access_token={other.AccessToken}")).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_token_is_no_api_key()
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        _anonymous.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", job.AccessToken);

        using var initiate = await _anonymous.PostJsonAsync("/v1/download/initiate", """{"file_ids":[70000]}""");

        initiate.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task The_hub_url_as_given_follows_the_job_to_its_end_on_every_transport(HttpTransportType transport)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);

        await using var client = await JobEventRecorder.FollowUrlAsync(new Uri(job.HubUrl), job.JobId, transport);

        (await client.WaitForTerminalAsync()).Status.Should().Be(JobStatus.Completed);
        client.Applied[0].Type.Should().Be(JobEventType.Snapshot);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task The_job_hub_path_without_the_token_is_refused_on_every_transport(HttpTransportType transport)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, $"/ws/download/{job.JobId}"), transport);

        var start = () => connection.StartAsync().DefaultTimeout();

        (await start.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task The_general_hub_path_follows_a_job_with_its_token_on_every_transport(HttpTransportType transport)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);

        await using var client = await JobEventRecorder.SubscribeAsync(_app.BaseAddress, job.JobId, transport, job.AccessToken);

        (await client.WaitForTerminalAsync()).Status.Should().Be(JobStatus.Completed);
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task The_general_hub_path_refuses_another_jobs_subscription_on_every_transport(HttpTransportType transport)
    {
        var job = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        var other = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), transport, job.AccessToken);
        await connection.StartAsync().DefaultTimeout();

        var subscribe = () => connection.InvokeAsync("Subscribe", other.JobId.ToString()).DefaultTimeout();

        (await subscribe.Should().ThrowAsync<HubException>()).Which.Message.Should().Contain("job not found");
    }

    [Fact]
    public async Task One_connection_follows_several_jobs_each_with_its_own_token()
    {
        var first = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        var second = await _backEnd.InitiateAsync(DownloadsApi.ThreeFileJob);
        await using var connection = JobEventRecorder.Build(new Uri(_app.BaseAddress, "/ws/download"), HttpTransportType.WebSockets, first.AccessToken);
        await connection.StartAsync().DefaultTimeout();

        var withToken = () => connection.InvokeAsync("SubscribeWithToken", second.JobId.ToString(), second.AccessToken).DefaultTimeout();
        var withWrongToken = () => connection.InvokeAsync("SubscribeWithToken", second.JobId.ToString(), "jat_forged").DefaultTimeout();

        await withToken.Should().NotThrowAsync();
        await withWrongToken.Should().ThrowAsync<HubException>();
    }

    [Fact]
    public async Task Open_mode_answers_a_token_but_leaves_the_urls_plain()
    {
        await using var open = new DownloadsApplication();
        var api = new DownloadsApi(open.CreateApiClient());

        var job = await api.InitiateAsync(DownloadsApi.ThreeFileJob);

        job.AccessToken.Should().StartWith("jat_");
        job.StatusUrl.Should().EndWith($"/v1/download/status/{job.JobId}");
    }
}
